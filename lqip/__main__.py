from lqip.cli import main

main()
