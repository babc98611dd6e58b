-- Run once by the postgres image on an empty volume (as POSTGRES_USER): Airflow's metadata and the
-- wugan case store live in separate databases of the same server.
CREATE DATABASE airflow;
CREATE DATABASE wugan_cases;
