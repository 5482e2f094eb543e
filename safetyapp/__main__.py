from safetyapp.cli import main

main()
