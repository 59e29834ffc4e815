"""The credential pages' strings (merged into :data:`api.pages.i18n.STRINGS`)."""

from __future__ import annotations

__all__ = ["WALLET_STRINGS"]

WALLET_STRINGS: dict[str, tuple[str, str]] = {
    "action.credential_offer": ("生成证照包领取码", "wallet offer made"),
    "action.credential_issue": ("领取到证照包", "taken into a wallet"),
    "lic.wallet": ("放入证照包", "Add to wallet"),
    "wallet.title": ("放入数字证照包", "Add to a digital wallet"),
    "wallet.lead": (
        "您的数字证照包（钱包应用）将领取这份证照的可验证凭证（SD-JWT VC）。"
        "出示时，您可以只公开需要的字段。",
        "Your wallet app receives a verifiable credential (SD-JWT VC) of this license. When "
        "you show it, you can disclose only the fields that are needed.",
    ),
    "wallet.fields": (
        "凭证中的字段（每项均可选择是否公开）",
        "Fields (each one you may disclose or not)",
    ),
    "wallet.no_id": (
        "凭证中不含您的完整身份证件号码，只含部分隐藏的号码。",
        "The credential does not hold your full ID number, only its masked form.",
    ),
    "wallet.tx_code": (
        "领取时需输入 6 位数字（推荐）",
        "Ask for a 6-digit code when taking it (recommended)",
    ),
    "wallet.submit": ("生成二维码", "Make the QR code"),
    "wallet.scan": (
        "请用证照包应用扫描二维码，或在本设备上打开链接。二维码只能使用一次。",
        "Scan the QR code with your wallet app, or open the link on this device. It works once.",
    ),
    "wallet.link": ("在本设备上打开", "Open on this device"),
    "wallet.code": ("领取码", "Transaction code"),
    "wallet.code.hint": (
        "应用提示时输入；请勿告诉他人。",
        "Type it when the app asks; tell no one.",
    ),
    "wallet.expires": ("有效至", "Valid until"),
    "vc.title": ("核验证照凭证", "Check a license credential"),
    "vc.lead": (
        "持证人出示的凭证（SD-JWT + 密钥绑定）。请先把随机数和受众告诉持证人，让其钱包据此出示。",
        "A credential a holder presents (SD-JWT + key binding). Give the holder the nonce and "
        "audience first; their wallet presents for them.",
    ),
    "vc.presentation": ("凭证", "Presentation"),
    "vc.nonce": ("随机数 (nonce)", "Nonce"),
    "vc.audience": ("受众 (aud)", "Audience (aud)"),
    "vc.submit": ("核验", "Check"),
    "vc.accepted": ("有效，未被撤销", "Valid and not revoked"),
    "vc.rejected": ("不能采信", "Not to be relied on"),
    "vc.valid": ("签名与密钥绑定", "Signature and key binding"),
    "vc.status": ("证照状态", "License status"),
    "vc.disclosed": ("持证人公开的字段", "Fields the holder disclosed"),
    "vc.none": ("未公开任何字段。", "No field disclosed."),
    "vc.problems": ("原因", "Why"),
    "vc.status.valid": ("有效", "valid"),
    "vc.status.revoked": (
        "已失效（吊销、撤销、注销、过期或已更新）",
        "revoked (or cancelled, expired, superseded)",
    ),
    "vc.status.suspended": ("暂扣", "suspended"),
    "vc.status.unknown": ("无法确定", "unknown"),
    "vc.missing": ("请填写全部三项。", "Please fill in all three fields."),
}
