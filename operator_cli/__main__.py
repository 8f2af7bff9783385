from operator_cli.app import main

raise SystemExit(main())
