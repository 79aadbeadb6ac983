from django import template

from ..models import Material, registrant_path

register = template.Library()


@register.inclusion_tag("materials/_registrant_materials.html")
def registrant_materials(registration):
    """On a registrant's own page: the talk's materials for them, with the link to their page of them."""
    if not registration.is_active:
        return {"materials": []}
    materials = Material.objects.for_registration(registration).order_by("created_at", "pk")
    return {
        "materials": [material.as_talk_material(registration) for material in materials],
        "materials_path": registrant_path(registration),
    }
