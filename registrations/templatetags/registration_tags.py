from django import template

register = template.Library()


@register.inclusion_tag("registrations/panel.html", takes_context=True)
def registration_panel(context, event):
    return {"event": event, "request": context.get("request")}
