{#-
  pa_funnel(name, step_names=none, entity=none)
  The declared funnel `name` (normalised by pa_definitions), for a mart that is one
  instance of it (fct_onboarding_funnel is `pilot_onboarding` per merchant). With
  step_names, the entry must declare exactly these steps, in order (the mart's columns
  are named after them), and be ordered (and have `entity`, when given): else one line
  naming the entry.
-#}
{% macro pa_funnel(name, step_names=none, entity=none) -%}
    {%- set label = 'product_analytics.funnels[' ~ name ~ ']' -%}
    {%- for f in pa_definitions().funnels -%}
        {%- if f.name == name -%}
            {%- if step_names is not none and f.steps | map(attribute='name') | list != step_names -%}
                {{ pa_fail(label ~ '.steps', model.name ~ ' needs the steps ' ~ step_names | join(', ') ~ ' in this order') }}
            {%- endif -%}
            {%- if f.ordering == 'unordered' or f.exclude or f.breakdown -%}
                {{ pa_fail(label, model.name ~ ' needs an ordered funnel without exclude or breakdown') }}
            {%- endif -%}
            {%- if entity is not none and f.entity != entity -%}
                {{ pa_fail(label ~ '.entity', model.name ~ ' needs entity ' ~ entity) }}
            {%- endif -%}
            {{ return(f) }}
        {%- endif -%}
    {%- endfor -%}
    {{ pa_fail(label, 'missing: ' ~ model.name ~ ' is an instance of it') }}
{%- endmacro %}
