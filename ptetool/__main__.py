from ptetool.cli import main

main()
