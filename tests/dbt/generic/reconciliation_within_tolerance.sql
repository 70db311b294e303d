{#-
    reconciliation_within_tolerance: every comparison of a reconciliation model is within its
    tolerance. Returns each comparison with status 'break' whose policy severity (seed
    reconciliation_policy, per reconciliation and entity) is severity_level. A model declares
    it twice, with severity_level error and warn, so that each break fails at the severity the
    seed gives it: the test's own severity follows its argument.
-#}
{% test reconciliation_within_tolerance(model, severity_level='error') %}
    {{ config(severity=('error' if severity_level == 'error' else 'warn')) }}

select *
from {{ model }}
where status = 'break' and severity = '{{ severity_level }}'

{% endtest %}
