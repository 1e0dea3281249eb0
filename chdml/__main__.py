from chdml.cli import main

main()
