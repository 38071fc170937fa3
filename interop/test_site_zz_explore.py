import asyncio, time, json
from support.site import start_site

async def test_explore(lab):
    site = await start_site(lab)
    await site.wait_all_limited(minimum=8, timeout=35)
    at = await site.set_building(32, 30, 38)
    t_end = at + 6
    while time.monotonic() < t_end:
        a = await site.api.get("/api/v1/allocation")
        m = await site.api.get("/api/v1/meter")
        print(f"{time.monotonic()-at:5.2f} meter second={m['second']} I={[round(p['current'],1) for p in m['phases']]} alloc t={a['time']:.2f} building={[round(a['building_load'][k],1) for k in ('l1','l2','l3')]} targets={[round(c['current'],1) for c in a['chargers']]} draws={[round(c['draw'],1) for c in a['chargers']]} held={[round(c.limit,1) for c in site.chargers.values()]}")
        await asyncio.sleep(0.2)
