from wugan.cli import app

app(prog_name="wugan")
