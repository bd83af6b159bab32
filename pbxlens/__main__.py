from pbxlens.cli import main

main()
