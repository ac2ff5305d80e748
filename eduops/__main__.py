from eduops.cli import main

main()
