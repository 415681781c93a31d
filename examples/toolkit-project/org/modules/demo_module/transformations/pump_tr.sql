select
  cast(`key` as STRING) as externalId,
  cast(`name` as STRING) as name,
  cast(`flow` as DOUBLE) as flowRate
from `demo_db`.`pumps`
