select 1 as probe_value
