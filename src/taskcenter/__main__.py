from taskcenter.cli import main

main()
