from services.provisioner.bootstrap import create_app

app = create_app()
