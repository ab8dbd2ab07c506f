from collabgap.services._cli import main

main()
