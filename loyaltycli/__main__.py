from loyaltycli.cli import main

main()
