"""The company space's strings (法人空间; merged into :data:`api.pages.i18n.STRINGS`)."""

from __future__ import annotations

__all__ = ["COMPANY_STRINGS"]

COMPANY_STRINGS: dict[str, tuple[str, str]] = {
    "nav.companies": ("法人空间", "Company spaces"),
    "co.nav.licenses": ("企业证照", "Company licenses"),
    "co.nav.materials": ("企业材料", "Company materials"),
    "co.nav.agents": ("经办人管理", "Agents"),
    "co.acting_for": ("正在代表企业办理：", "Acting for the company:"),
    "co.back": ("返回个人空间", "Back to my personal space"),
    "co.switch": ("切换企业", "Switch company"),
    "co.role.representative": ("法定代表人", "legal representative"),
    "co.role.agent": ("经办人", "agent"),
    "co.list.title": ("法人空间", "Company spaces"),
    "co.list.lead": (
        "您是以下企业的法定代表人或经办人，可以代表企业查看和办理证照、材料、授权、"
        "加注件和用证记录。每一次操作都会同时记录企业和您本人。",
        "You are the legal representative or an agent of these companies: you may see and act "
        "on their licenses, materials, consent, certified copies and access log. Every action "
        "records both the company and you.",
    ),
    "co.list.none": (
        "您目前不是任何企业的法定代表人或有效经办人。",
        "You are not the legal representative or a live agent of any company.",
    ),
    "co.list.enter": ("代表该企业办理", "Act for this company"),
    "co.scopes": ("授权范围", "Scope"),
    "co.expires": ("有效期至", "Valid until"),
    "co.unlimited": ("长期（法定代表人）", "no end (legal representative)"),
    "co.scope.licenses": ("查看、下载证照", "see and download licenses"),
    "co.scope.copies": ("制作加注件", "certified copies"),
    "co.scope.consent": ("授权管理", "consent"),
    "co.scope.log": ("用证记录", "access log"),
    "co.scope.materials": ("电子材料", "materials"),
    "co.refused.title": ("无权办理", "Not allowed"),
    "co.refused.scope": (
        "您作为经办人的授权范围不包括此事项，请联系企业的法定代表人。",
        "Your designation as agent does not cover this. Ask the company's legal representative.",
    ),
    "co.refused.none": (
        "您不能代表该企业：您不是它的法定代表人或经办人，或者您的授权已过期或已撤销。",
        "You cannot act for this company: you are not its legal representative or agent, or "
        "your designation expired or was revoked.",
    ),
    "co.refused.representative": (
        "只有企业的法定代表人可以管理经办人。",
        "Only the company's legal representative manages its agents.",
    ),
    "co.agents.title": ("经办人管理", "Agents"),
    "co.agents.lead": (
        "作为法定代表人，您可以指定经办人代表企业办理，并限定授权范围和有效期；随时可以撤销。",
        "As the legal representative you designate agents to act for the company, each with "
        "a scope and an expiry, and may revoke them at any time.",
    ),
    "co.agents.none": ("尚未指定经办人。", "No agent designated yet."),
    "co.agents.new": ("指定经办人", "Designate an agent"),
    "co.agents.name": ("经办人姓名", "Agent's name"),
    "co.agents.id": ("经办人公民身份号码", "Agent's citizen ID number"),
    "co.agents.until": ("有效期至（YYYY-MM-DD，北京时间当日结束）", "Valid until (YYYY-MM-DD)"),
    "co.agents.submit": ("指定", "Designate"),
    "co.agents.revoke": ("撤销", "Revoke"),
    "co.agents.created": ("已指定经办人。", "Agent designated."),
    "co.agents.revoked": ("已撤销经办人。", "Agent revoked."),
    "co.agents.status.active": ("有效", "active"),
    "co.agents.status.expired": ("已过期", "expired"),
    "co.agents.status.revoked": ("已撤销", "revoked"),
    "action.list": ("查看证照列表", "licenses listed"),
    "action.grant_list": ("查看授权", "consent listed"),
    "action.log_read": ("查看用证记录", "access log read"),
    "action.material_list": ("查看材料", "materials listed"),
    "action.agent_designate": ("指定经办人", "agent designated"),
    "action.agent_revoke": ("撤销经办人", "agent revoked"),
    "action.act_for": ("代表企业办理", "acting for the company"),
    "action.representative_set": ("登记法定代表人", "legal representative recorded"),
    "basis.representative": ("法定代表人", "legal representative"),
    "basis.agent": ("经办人", "agent"),
}
