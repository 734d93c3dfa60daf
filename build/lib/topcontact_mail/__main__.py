from topcontact_mail.entrypoints.cli import main

main()
