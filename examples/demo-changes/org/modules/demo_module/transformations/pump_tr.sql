select
  cast(`key` as STRING) as externalId,
  cast(`name` as STRING) as name,
  cast(`flow_m3h` as DOUBLE) as flowRate
from `demo_db`.`pumps`
where `active` = true
