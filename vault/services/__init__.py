"""The vault's services: keyword-only functions that take the session explicitly and
return domain objects or raise :mod:`vault.errors`. No web code here.

- :mod:`vault.services.holders`: find and create holders (blind index, encryption)
- :mod:`vault.services.catalog`: departments, seal certificates, license types, 用证目录
- :mod:`vault.services.intake`: ``ingest`` a pushed license, once only
- :mod:`vault.services.lifecycle`: versions and status (有效, 暂扣, 撤销, 注销, 吊销, 失效)
- :mod:`vault.services.gc`: remove unreferenced blobs after a grace period
- :mod:`vault.services.bulk`: bulk import of existing stock (存量证照)
"""
