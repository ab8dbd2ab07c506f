from services._cli import main

main()
