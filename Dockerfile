# wugan on the official Airflow image: the same image runs every Airflow service and the web app.
FROM apache/airflow:3.3.2-python3.11

USER airflow
WORKDIR /opt/wugan
COPY --chown=airflow:root requirements.lock pyproject.toml README.md ./
# The locked set first (a layer that changes only with the lock), then the package itself without deps.
RUN pip install --no-cache-dir -r requirements.lock
COPY --chown=airflow:root src ./src
COPY --chown=airflow:root rules ./rules
RUN pip install --no-cache-dir --no-deps .
COPY --chown=airflow:root dags /opt/airflow/dags

ENV WUGAN_RULES_DIR=/opt/wugan/rules \
    WUGAN_MODELS_DIR=/data/wugan/models \
    WUGAN_HOME=/data/wugan
