from wugan.cli.main import app

app(prog_name="wugan")
