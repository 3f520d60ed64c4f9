# Run by `make run` inside `odoo-bin shell` (env is given): turns the main
# company into a Chilean one selling in CLP, before accounting is installed.
company = env.ref("base.main_company")  # noqa: F821 - provided by odoo-bin shell
clp = env.ref("base.CLP")  # noqa: F821
clp.active = True
company.write(
    {
        "name": "Tienda Demo LatAm SpA",
        "country_id": env.ref("base.cl").id,  # noqa: F821
        "currency_id": clp.id,
        "vat": "76086428-5",
        "street": "Av. Libertador Bernardo O'Higgins 1234",
        "city": "Santiago",
        "zip": "8320000",
        "phone": "+56 2 2345 6789",
        "email": "ventas@tienda-demo.example",
    }
)
# Chilean Spanish from the start: modules installed later load it too.
env["res.lang"]._activate_lang("es_CL")  # noqa: F821
env.cr.commit()  # noqa: F821
