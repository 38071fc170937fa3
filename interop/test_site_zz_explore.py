import asyncio, time, json
from support.site import Site, SiteSpec, DEFAULT_CHARGERS

async def test_explore(lab):
    site = await Site(lab, SiteSpec(), DEFAULT_CHARGERS).start()
    t0 = time.monotonic()
    await site.plug_in_all()
    for i in range(40):
        await asyncio.sleep(1)
        print(f"{time.monotonic()-t0:5.1f}", {k: (round(c.limit,1), c.loadguard_limit) for k, c in site.chargers.items()}, [round(x,1) for x in site.phase_load()])
    alloc = await site.api.get("/api/v1/allocation")
    print(json.dumps({k: alloc[k] for k in ("building_load","charging_budget","effective_limit")}))
    for c in alloc["chargers"]: print(c)
    for c in site.chargers.values():
        print(c.id, [(round(h.at-t0,2), h.limit, h.cause) for h in c.history])
