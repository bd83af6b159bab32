"""Names vulture (`make lint`, over the whole package) reports as unused that are used after
all, then a list of debt: names reported outside pbxlens/reports/ that their owners have not
reviewed yet. The debt list only shrinks; nothing new is silenced here. Candidates:
`.venv/bin/vulture pbxlens --make-whitelist`."""

# ruff: noqa

# Registered by a framework and called by it: typer commands, Dash callbacks, Flask routes and
# hooks, pydantic settings and models, http.server handler methods, webhook statistics.
tariffs_import  # unused function (pbxlens/billing/cli.py:45)
tariffs_export  # unused function (pbxlens/billing/cli.py:53)
profiles_import  # unused function (pbxlens/billing/cli.py:60)
profiles_export  # unused function (pbxlens/billing/cli.py:69)
profiles_attach  # unused function (pbxlens/billing/cli.py:76)
service_add  # unused function (pbxlens/billing/cli.py:154)
contract  # unused function (pbxlens/billing/cli.py:169)
ingest  # unused function (pbxlens/cli.py:79)
demo  # unused function (pbxlens/cli.py:191)
pbx_auth_header  # unused function (pbxlens/cli.py:357)
fake_pbx  # unused function (pbxlens/cli.py:404)
_.get_field_value  # unused method (pbxlens/config.py:31)
model_config  # unused variable (pbxlens/config.py:39)
webhook_token_events  # unused variable (pbxlens/config.py:66)
webhook_token_dynamic_routing  # unused variable (pbxlens/config.py:67)
webhook_token_feedback  # unused variable (pbxlens/config.py:68)
webhook_max_bytes  # unused variable (pbxlens/config.py:69)
_.settings_customise_sources  # unused method (pbxlens/config.py:98)
dotenv_settings  # unused variable (pbxlens/config.py:104)
_.cache_clear  # unused method (pbxlens/config.py), for the tests' fixtures that set PBXLENS_*
show_page  # unused function (pbxlens/dashboards/pages/admin_quarantine.py:62)
save_settings  # unused function (pbxlens/dashboards/pages/admin_settings.py:61)
users_action  # unused function (pbxlens/dashboards/pages/admin_users.py:78)
finance_export  # unused function (pbxlens/dashboards/pages/billing_home.py:79)
multiservice_action  # unused function (pbxlens/dashboards/pages/billing_multiservice.py:107)
profile_action  # unused function (pbxlens/dashboards/pages/billing_profiles.py:80)
tariff_action  # unused function (pbxlens/dashboards/pages/billing_tariffs.py:107)
fill_form  # unused function (pbxlens/dashboards/pages/billing_tariffs.py:153)
manage  # unused function (pbxlens/dashboards/pages/missed_manage.py:80)
show_report  # unused function (pbxlens/dashboards/pages/report.py:86)
show_more  # unused function (pbxlens/dashboards/pages/report.py: a Dash callback)
reset_filters  # unused function (pbxlens/dashboards/pages/report.py:106)
toggle_widget_form  # unused function (pbxlens/dashboards/pages/report.py:145)
save_widget  # unused function (pbxlens/dashboards/pages/report.py:158)
import_file  # unused function (pbxlens/dashboards/pages/tickets_companies.py:92)
act  # unused function (pbxlens/dashboards/pages/tickets_edit.py:259)
import_file  # unused function (pbxlens/dashboards/pages/tickets_list.py:276)
account_contacts  # unused function (pbxlens/dashboards/pages/tickets_new.py:230)
final_contacts  # unused function (pbxlens/dashboards/pages/tickets_new.py:238)
make_company  # unused function (pbxlens/dashboards/pages/trace_records.py:365)
toggle_form  # unused function (pbxlens/dashboards/pages/widgets.py:120)
board  # unused function (pbxlens/dashboards/pages/widgets.py:130)
refresh_widgets  # unused function (pbxlens/dashboards/pages/widgets.py:225)
_guard  # unused function (pbxlens/dashboards/server.py:164)
_headers  # unused function (pbxlens/dashboards/server.py:183)
logout  # unused function (pbxlens/dashboards/server.py:222)
set_lang  # unused function (pbxlens/dashboards/server.py:228)
health  # unused function (pbxlens/dashboards/server.py:239)
api_reports  # unused function (pbxlens/dashboards/server.py:243)
api_report  # unused function (pbxlens/dashboards/server.py:248)
upload  # unused function (pbxlens/dashboards/server.py:259)
too_large  # unused function (pbxlens/dashboards/server.py:272)
_.commits  # unused attribute (pbxlens/dashboards/webhooks.py:244)
_.commits  # unused attribute (pbxlens/dashboards/webhooks.py:322)
events_stats  # unused function (pbxlens/dashboards/webhooks.py:436)
model_config  # unused variable (pbxlens/ingest/directory.py:19)
model_config  # unused variable (pbxlens/ingest/directory.py:33)
model_config  # unused variable (pbxlens/ingest/directory.py:50)
model_config  # unused variable (pbxlens/ingest/directory.py:91)
model_config  # unused variable (pbxlens/ingest/directory.py:97)
list_  # unused function (pbxlens/missed_calls/cli.py:55)
reconcile_  # unused function (pbxlens/missed_calls/cli.py:174)
api_backup  # unused function (pbxlens/scale/http.py:16)
server_version  # unused variable (pbxlens/simulate/fake_pbx.py:115)
_.log_message  # unused method (pbxlens/simulate/fake_pbx.py:117)
_.do_GET  # unused method (pbxlens/simulate/fake_pbx.py:129)
_.daemon_threads  # unused attribute (pbxlens/simulate/fake_pbx.py:170)
list_tickets  # unused function (pbxlens/tickets/cli.py:126)
send_outbox  # unused function (pbxlens/tickets/cli.py:203)
default_types  # unused function (pbxlens/tickets/cli.py:233)
company_types  # unused function (pbxlens/tickets/cli.py:243)
type_area  # unused function (pbxlens/tickets/cli.py:262)
notify_matrix  # unused function (pbxlens/tickets/cli.py:280)
user_profile  # unused function (pbxlens/tickets/cli.py:316)
ticket_attach  # unused function (pbxlens/tickets/web.py:30)
ticket_attachment  # unused function (pbxlens/tickets/web.py:65)
# definitions: typer commands, Dash callbacks, the Alembic revision's names
definitions_list  # unused function (pbxlens/reports/definitions_cli.py)
definitions_set  # unused function (pbxlens/reports/definitions_cli.py)
definitions_delete  # unused function (pbxlens/reports/definitions_cli.py)
calendars_list  # unused function (pbxlens/reports/definitions_cli.py)
calendars_add  # unused function (pbxlens/reports/definitions_cli.py)
calendars_holiday  # unused function (pbxlens/reports/definitions_cli.py)
calendars_closure  # unused function (pbxlens/reports/definitions_cli.py)
calendars_assign  # unused function (pbxlens/reports/definitions_cli.py)
calendars_delete  # unused function (pbxlens/reports/definitions_cli.py)
save_definition  # unused function (pbxlens/dashboards/pages/definitions.py)
load_definition  # unused function (pbxlens/dashboards/pages/definitions.py)
calendar_edit  # unused function (pbxlens/dashboards/pages/definitions.py)
drill_cell  # unused function (pbxlens/dashboards/pages/report.py)
export_drill  # unused function (pbxlens/dashboards/pages/report.py)
close_drill  # unused function (pbxlens/dashboards/pages/report.py)
compute  # unused function (pbxlens/dashboards/pages/staffing.py)
revision  # unused variable (pbxlens/store/migrations/versions/0002_definitions.py)
down_revision  # unused variable (pbxlens/store/migrations/versions/0002_definitions.py)
branch_labels  # unused variable (pbxlens/store/migrations/versions/0002_definitions.py)
depends_on  # unused variable (pbxlens/store/migrations/versions/0002_definitions.py)
downgrade  # unused function (pbxlens/store/migrations/versions/0002_definitions.py)

# Public API used by callers outside the package (notebooks, docs/api.md; the Erlang B
# formula is the oracle of channels_for in the tests).
_.to_polars  # unused method (pbxlens/api.py:117)
blocking  # unused function (pbxlens/reports/erlang.py:7)
# definitions: the plain-Python calendar rule (the tests' oracle of the hours filter), a cell
# recomputed from its facts, whole agents to schedule, Erlang A's abandon probability
_.is_open  # unused method (pbxlens/reports/calendars.py)
cell_value  # unused function (pbxlens/reports/drilldown.py)
agents_needed  # unused function (pbxlens/reports/staffing.py)
p_abandon  # unused variable (pbxlens/reports/staffing.py)

# Reported outside pbxlens/reports/ and not yet reviewed by their owners (used only by tests,
# kept for a later step, or dead): each owner removes the code or moves the name above.
for_keys  # unused function (pbxlens/missed_calls/reconcile.py:58)
classify  # unused function (pbxlens/models/numbers.py:119)
rows_deleted  # unused variable (pbxlens/scale/retention.py:28)
_.rows_deleted  # unused attribute (pbxlens/scale/retention.py:69)
to_spark  # unused function (pbxlens/scale/spark.py:69)
_.fetchmany  # unused method (pbxlens/scale/spark.py:133)
_.last_sql  # unused attribute (pbxlens/scale/spark.py:163)
_.last_sql  # unused attribute (pbxlens/scale/spark.py:189)
_.hangup_by  # unused attribute (pbxlens/simulate/engine.py:657)
_.hangup_by  # unused attribute (pbxlens/simulate/engine.py:696)
_.caller_op  # unused attribute (pbxlens/simulate/engine.py:928)
_.campaign  # unused attribute (pbxlens/simulate/engine.py:942)
_.caller_op  # unused attribute (pbxlens/simulate/engine.py:1014)
generate_tenants  # unused function (pbxlens/simulate/tenants.py:17)
_.hangup_by  # unused attribute (pbxlens/simulate/truth.py:54)
_.ring_order  # unused attribute (pbxlens/simulate/truth.py:56)
_.campaign  # unused attribute (pbxlens/simulate/truth.py:110)
_.caller_op  # unused attribute (pbxlens/simulate/truth.py:111)
candidates  # unused variable (pbxlens/tickets/companies.py:29)
set_options  # unused function (pbxlens/tickets/notify.py:150)

# The two stores: Flask routes, typer commands, a pydantic validator, SQLAlchemy's
# TypeDecorator protocol and DBAPI attributes, helpers the tests and shutdown call.
_known_zone  # unused method (pbxlens/config.py:97)
_paths_inside_roots  # a pydantic model validator
missed_list  # unused function (pbxlens/dashboards/missed_api.py:91)
missed_book  # unused function (pbxlens/dashboards/missed_api.py:95)
missed_cancel  # unused function (pbxlens/dashboards/missed_api.py:99)
missed_dial  # unused function (pbxlens/dashboards/missed_api.py:103)
missed_assign  # unused function (pbxlens/dashboards/missed_api.py:108)
missed_flush  # unused function (pbxlens/dashboards/missed_api.py:114)
local_cli  # unused function (pbxlens/dashboards/server.py:318)
api_jobs  # unused function (pbxlens/dashboards/server.py:332)
api_job  # unused function (pbxlens/dashboards/server.py:338)
ops_unavailable  # unused function (pbxlens/dashboards/server.py:347)
_.drain  # unused method (pbxlens/ingest/inbox_move.py:378)
_.isolation_level  # unused attribute (pbxlens/store/ops.py:58)
head_revision  # unused function (pbxlens/store/ops.py:138), for the tests
current_revision  # unused function (pbxlens/store/ops.py:156), for the tests
impl  # unused variable (pbxlens/store/schema.py:21)
cache_ok  # unused variable (pbxlens/store/schema.py:22)
_.process_bind_param  # unused method (pbxlens/store/schema.py:24)
_.process_result_value  # unused method (pbxlens/store/schema.py:32)
password_cmd  # unused function (pbxlens/store/users_cli.py:103)
token_cmd  # unused function (pbxlens/store/users_cli.py:123)
fill_edit_form  # unused function (pbxlens/dashboards/pages/admin_users.py:113), a Dash callback
# Saved views, schedules, delivery: typer commands, Dash callbacks, Flask routes (registered by
# their frameworks), tenacity's retry state read by its wait strategy, a schedule's last due
# instant (shown by the CLI and tests).
list_views  # unused function (pbxlens/views/cli.py)
run_view  # unused function (pbxlens/views/cli.py)
list_schedules  # unused function (pbxlens/views/cli.py)
open_view  # unused function (pbxlens/views/web.py)
api_views  # unused function (pbxlens/views/web.py)
download_export  # unused function (pbxlens/views/web.py)
toggle_save_form  # unused function (pbxlens/dashboards/components/view_tools.py)
save_view  # unused function (pbxlens/dashboards/components/view_tools.py)
background_export  # unused function (pbxlens/dashboards/components/view_tools.py)
sync_period  # unused function (pbxlens/dashboards/pages/report.py)
save_email  # unused function (pbxlens/dashboards/pages/saved_views.py)
_.attempt_number  # unused attribute (pbxlens/delivery/sender.py)
last_due_at  # unused variable (pbxlens/views/schedules.py)
_.idle  # unused method (pbxlens/store/writer.py), for the tests

# Registered by a framework (typer commands, Flask routes, Dash callbacks, expat handlers):
# billing explain/bundles/carrier, live and alerts.
explain_cmd  # unused function (pbxlens/billing/cli.py:226)
bundle_add  # unused function (pbxlens/billing/cli.py:297)
carrier_import  # unused function (pbxlens/billing/cli.py:325)
carrier_reconcile  # unused function (pbxlens/billing/cli.py:344)
api_alert_rules  # unused function (pbxlens/dashboards/alerts_web.py:38)
api_alert_rule_delete  # unused function (pbxlens/dashboards/alerts_web.py:63)
api_alerts  # unused function (pbxlens/dashboards/alerts_web.py:72)
api_alert_ack  # unused function (pbxlens/dashboards/alerts_web.py:81)
billing_explain  # unused function (pbxlens/dashboards/billing_api.py:35)
api_live  # unused function (pbxlens/dashboards/live_web.py:43)
api_live_stream  # unused function (pbxlens/dashboards/live_web.py:89)
kiosk_page  # unused function (pbxlens/dashboards/live_web.py:122)
api_kiosks  # unused function (pbxlens/dashboards/live_web.py:146)
api_kiosk_revoke  # unused function (pbxlens/dashboards/live_web.py:164)
refresh_unrated  # unused function (pbxlens/dashboards/pages/billing_home.py:120)
carrier_upload  # unused function (pbxlens/dashboards/pages/billing_home.py:163)
web_error  # unused function (pbxlens/dashboards/server.py:444)
_.StartElementHandler  # unused attribute (pbxlens/ingest/xlsx_guard.py:133)
_.StartDoctypeDeclHandler  # unused attribute (pbxlens/ingest/xlsx_guard.py:134)

# Debt from this round's merges (simulator, live, billing): public helpers and fields
# kept for callers to come or unreviewed; the list only shrinks.
delete_bundle  # unused function (pbxlens/billing/bundles.py:77)
list_bundles  # unused function (pbxlens/billing/bundles.py:81)
invoices  # unused function (pbxlens/billing/carrier.py:175)
FAILS  # unused variable (pbxlens/billing/explain.py:39)
charged_nofree_s  # unused variable (pbxlens/billing/explain.py:95)
profile_id  # unused variable (pbxlens/billing/explain.py:101)
stored_free_s  # unused variable (pbxlens/billing/explain.py:136)
last_checks  # unused function (pbxlens/live/consistency.py:94)
ServiceLevel  # unused variable (pbxlens/live/definitions.py:26)
_.ticks  # unused attribute (pbxlens/live/hub.py:66)
_.ticks  # unused attribute (pbxlens/live/hub.py:79)
revoked  # unused variable (pbxlens/live/kiosks.py:33)
CALL_EVENTS  # unused variable (pbxlens/live/state.py:64)
unrated_count  # unused function (pbxlens/reports/billing_unrated.py:49)
_.burst  # unused method (pbxlens/simulate/engine.py:716)
parameter_table  # unused function (pbxlens/simulate/scenarios.py:185)
# the simulator's event loop dispatches scheduled events to methods by name
_.callback_attempt
_.reserve_callback
kiosk_script  # unused function (pbxlens/dashboards/live_web.py), a Flask route

# Pydantic models of imported rows and webhook bodies: their fields are read through
# model_dump() or by the row builder's dict, so vulture sees them declared, never read.
rate_in  # unused variable (pbxlens/billing/tariffs.py)
rate_out  # unused variable (pbxlens/billing/tariffs.py)
min_charge  # unused variable (pbxlens/billing/tariffs.py)
free_minutes  # unused variable (pbxlens/billing/tariffs.py)
inbound_gateway  # unused variable (pbxlens/billing/tariffs.py)
bad_debts  # unused variable (pbxlens/tickets/rows.py)
exposure  # unused variable (pbxlens/tickets/rows.py)
credit_line  # unused variable (pbxlens/tickets/rows.py)
outlook  # unused variable (pbxlens/tickets/rows.py)
_contact_named  # unused method (pbxlens/tickets/rows.py): a pydantic model validator
final_customer  # unused variable (pbxlens/tickets/rows.py): read by getattr
final_customer_contact  # unused variable (pbxlens/tickets/rows.py): read by getattr
_member_named  # unused method (pbxlens/ingest/events.py): a pydantic model validator
param2  # unused variable (pbxlens/ingest/webhook_bodies.py)
param3  # unused variable (pbxlens/ingest/webhook_bodies.py)
param4  # unused variable (pbxlens/ingest/webhook_bodies.py)
param5  # unused variable (pbxlens/ingest/webhook_bodies.py)
_selection_given  # unused method (pbxlens/billing/profiles.py): a pydantic model validator
__getattr__  # unused function (pbxlens/ingest/__init__.py): a module's own attribute hook (PEP 562)
_.NaT  # unused attribute (pbxlens/store/pandas_probe.py): read by DuckDB's import cache
_.NA  # unused attribute (pbxlens/store/pandas_probe.py): read by DuckDB's import cache
