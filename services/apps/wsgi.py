from services.apps.bootstrap import create_app

app = create_app()
