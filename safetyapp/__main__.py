from safetyapp.launch import main

main()
