from services.catalog.bootstrap import create_app

app = create_app()
