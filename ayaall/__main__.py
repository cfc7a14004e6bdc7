from ayaall.cli import main

raise SystemExit(main())
