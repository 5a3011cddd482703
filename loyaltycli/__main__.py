from loyaltycli.startup import main

main()
