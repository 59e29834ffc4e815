"""Verification reasons and verdicts in Chinese, for the pages (the CLI and the JSON keep
the verifier's English).

The verifier's reasons are English sentences with the file's particulars in them (a field
name, a page, a date). Each pattern here matches one kind of sentence and gives its
Chinese with the same particulars; a reason no pattern knows is shown as it is, marked
``lang="en"`` by the template. A test renders every reason the verifier's test suites
produce and counts the ones left in English.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from schemas.report import Indication, SubIndication

__all__ = ["indication_zh", "reason_zh"]

_INDICATION = {
    Indication.TOTAL_PASSED: "验证通过",
    Indication.TOTAL_FAILED: "验证失败",
    Indication.INDETERMINATE: "无法确定",
}

_SUB = {
    SubIndication.FORMAT_FAILURE: "文件格式或结构不符，或签章后被修改",
    SubIndication.HASH_FAILURE: "签章所覆盖的内容已被改动",
    SubIndication.SIG_CRYPTO_FAILURE: "签名值不正确",
    SubIndication.REVOKED: "证书已吊销",
    SubIndication.EXPIRED: "证书已过期",
    SubIndication.NOT_YET_VALID: "证书尚未生效",
    SubIndication.CRYPTO_CONSTRAINTS_FAILURE: "使用了不被接受的算法",
    SubIndication.NO_CERTIFICATE_CHAIN_FOUND: "证书不能链接到受信任的根证书",
    SubIndication.CHAIN_CONSTRAINTS_FAILURE: "证书链不符合约束",
    SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE: "证书链验证失败",
    SubIndication.REVOKED_NO_POE: "证书已吊销，且无签章时间证明",
    SubIndication.REVOKED_CA_NO_POE: "证书链中的机构证书已吊销",
    SubIndication.OUT_OF_BOUNDS_NO_POE: "证书已过期，且无签章时间证明",
    SubIndication.TRY_LATER: "暂无吊销状态信息，请稍后再试",
    SubIndication.GENERIC: "无法完成验证",
}

#: A file reason naming the signature it is about: "Seal1: <a signature's reason>".
_NAMED = re.compile(r"^(?P<who>[^:]{1,200}?): (?P<rest>.+)$")

#: A signature's reason that what its document's pages draw with is unknown, and why.
_DRAWN = re.compile(r"^what the pages of (?P<doc>\S+) draw with cannot be told: (?P<rest>.+)$")

#: One kind of sentence each: (regular expression, Chinese with the same named groups).
_SENTENCES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), zh)
    for p, zh in (
        (r"^no signature found in the file$", "文件中没有电子签章"),
        (r"^not a PDF file \(no %PDF- header\)$", "不是 PDF 文件"),
        (
            r"^the PDF is encrypted with a password; it cannot be verified$",
            "PDF 有密码加密，无法验证",
        ),
        (r"^the PDF (structure )?cannot be read.*$", "无法读取 PDF 文件结构"),
        (
            r"^form field (?P<f>.+) was filled in after signing: not covered by the signature$",
            "表单域 {f} 在签章后被填写：其内容不在签章保护范围内",
        ),
        (
            r"^form field (?P<f>.+) was filled in, but the signature allows no changes$",
            "表单域 {f} 在签章后被填写，而该签章不允许任何修改",
        ),
        (
            r"^form field (?P<f>.+) was filled in, but the signature locks it$",
            "表单域 {f} 在签章后被填写，而该签章已锁定此域",
        ),
        (
            r"^what a reader sees changed after signing \(page (?P<p>[\d, ]+)\)$",
            "签章后页面显示的内容发生了变化（第 {p} 页）",
        ),
        (
            r"^the signed revision has (?P<a>\d+) pages, the file now (?P<b>\d+)$",
            "签章时文件有 {a} 页，现在有 {b} 页",
        ),
        (
            r"^the widget of signature (?P<s>.+) covers signed content on page (?P<p>\d+)$",
            "签章 {s} 的外观覆盖了第 {p} 页上已签章的内容",
        ),
        (
            r"^the file is not exactly valid after the signature: (?P<why>.+)$",
            "签章之后追加的内容结构不合规：{why}",
        ),
        (
            r"^the signature does not cover a whole revision of the file$",
            "签章没有覆盖文件的一个完整版本",
        ),
        (r"^the signature dictionary (?P<o>.+) was rewritten$", "签章字典（{o}）在签章后被改写"),
        (
            r"^signed signature field (?P<s>.+) was changed: (?P<k>.+)$",
            "已签章的签章域 {s} 在签章后被修改（{k}）",
        ),
        (
            r"^an empty signature field (?P<s>.+) with an appearance was added after signing: "
            r"not covered by the signature$",
            "签章后新增了带外观的空签章域 {s}：其内容无人签署",
        ),
        (
            r"^an empty signature field (?P<s>.+) with an appearance was added$",
            "签章后新增了带外观的空签章域 {s}",
        ),
        (
            r"^the appearance of empty signature field (?P<s>.+) changed: signed by no one$",
            "空签章域 {s} 的外观在签章后被改变：无人签署",
        ),
        (
            r"^signature field (?P<s>.+) was added whose signature does not verify.*$",
            "签章后新增的签章域 {s} 的签名无法验证",
        ),
        (
            r"^signature field (?P<s>.+) was added whose value is not a new signature$",
            "签章后新增的签章域 {s} 引用了已有的签章",
        ),
        (
            r"^a (?P<t>/\w+) annotation was added( after signing: not covered by the signature)?$",
            "签章后新增了注释（{t}）",
        ),
        (r"^an annotation that shows only when printed$", "签章后新增了只在打印时显示的注释"),
        (
            r"^objects changed after signing with no visible effect: (?P<w>.+)$",
            "签章后有对象被改写，但页面显示未变：{w}",
        ),
        (
            r"^later revisions add only permitted changes \((?P<l>\w+)\)$",
            "签章后只有允许的追加（{l}）",
        ),
        (r"^the message digest does not match the signed bytes$", "签章所覆盖内容的摘要不符"),
        (
            r"^the signature value does not verify with the signer's key$",
            "签名值不能用签章者的公钥验证",
        ),
        (
            r"^a detached signature \((?P<s>.+)\) whose CMS encapsulates content: it does not "
            r"sign the PDF's bytes$",
            "分离式签名（{s}）却内含其他内容：它并未签署本 PDF",
        ),
        (r"^the bytes left out by /ByteRange .*$", "签章范围（/ByteRange）之外还有其他内容"),
        (r"^/ByteRange .*$", "签章范围（/ByteRange）不合规"),
        (r"^no chain to a trusted root$", "证书不能链接到受信任的根证书"),
        (
            r"^no trust bundle given: the chain cannot reach a trusted root$",
            "未提供信任列表，无法确认证书链",
        ),
        (r"^revocation status unknown.*$", "吊销状态未知：文件和信任列表中没有有效的吊销信息"),
        (r"^the signer's certificate was revoked on (?P<d>\S+)$", "签章者证书已于 {d} 吊销"),
        (r"^the signer's certificate expired on (?P<d>\S+).*$", "签章者证书已于 {d} 过期"),
        (r"^the signature timestamp's authority is not trusted.*$", "签章时间戳的颁发机构不受信任"),
        (r"^the signature timestamp does not verify: .*$", "签章时间戳无法验证"),
        (r"^verification did not finish within .*$", "验证超时，已停止"),
        (
            r"^the file carries document timestamps only, no signature$",
            "文件只有文档时间戳，没有签章",
        ),
        (r"^relies on (?P<w>.+)$", "依赖已不安全的算法（{w}）"),
        (r"^the same signature is also the value of field (?P<f>.+)$", "同一签章还被域 {f} 引用"),
        (r"^object (?P<n>\d+) \((?P<what>[^)]+)\)(: (?P<k>.+))? changed$", "签章后对象 {n} 被修改"),
        (r"^object (?P<n>\d+) \((?P<what>[^)]+)\) was deleted$", "签章后对象 {n} 被删除"),
        (
            r"^field (?P<f>.+) holds an empty signature placeholder \(not signed\)$",
            "域 {f} 只是空的签章占位（未签署）",
        ),
        (
            r"^later revisions cannot be read, so they count as changes$",
            "签章后的版本无法读取，按已修改处理",
        ),
        (r"^the catalog points to another page tree$", "签章后文档换成了另一套页面"),
        (r"^the catalog's (?P<k>/\w+) changed$", "签章后文档目录的 {k} 被修改"),
        (r"^the form's (?P<k>/\w+) (changed|was replaced)$", "签章后表单的 {k} 被修改"),
        # what a later revision brings in (red team pdf12)
        (
            r"^object (?P<n>\d+)( \([^)]+\))?, which the signed revision does not (have|reach), "
            r"is reached after signing through .+: no rule for additions judges it$",
            "签章后经由被修改的对象引入了签章版本中没有的对象 {n}",
        ),
        (
            r"^object (?P<n>\d+) \(a page\): (?P<k>/\w+) now names other objects: .+$",
            "签章后页面（对象 {n}）的 {k} 指向了其他对象",
        ),
        (
            r"^object (?P<n>\d+), referenced but undefined when signed, was defined later: .+$",
            "签章时引用但未定义的对象 {n} 在签章后被定义",
        ),
        (
            r"^a form field (?P<f>.+) was added that is not a signature: .+$",
            "签章后新增了非签章表单域 {f}",
        ),
        (r"^signature field (?P<s>.+) was added: .+$", "签章后新增的签章域 {s} 不合规"),
        (
            r"^field (?P<f>.+) changed beyond its value: (?P<k>[^(]+?)( \(.+\))?$",
            "签章后表单域 {f} 值以外的内容被修改（{k}）",
        ),
        (
            r"^empty signature field (?P<s>.+) changed: (?P<k>.+)$",
            "签章后空签章域 {s} 被修改（{k}）",
        ),
        (r"^field (?P<f>.+) changed: .+$", "签章后表单域 {f} 被改为不合规的形式"),
        # OFD (signing.ofd.verifier, signing.ofd.certpath)
        (r"^the OFD file cannot be read: (?P<x>.+)$", "无法读取 OFD 文件（{x}）"),
        (r"^the OFD file is nested too deeply to read$", "OFD 文件嵌套过深，无法读取"),
        (r"^the OFD file cannot be verified \((?P<x>\w+)\)$", "OFD 文件无法验证（{x}）"),
        (
            r"^readers differ on the copy's 加注 and attachments: ofdrw reads the document's "
            r"Annotations and Attachments lists from (?P<d>\S+), beside the DocRoot (?P<r>\S+), "
            r"which lists other ones$",
            "阅读器显示的加注和附件不一致：ofdrw 从 DocRoot {r} 旁的 {d} 读取注释和附件列表，"
            "与 DocRoot 所列不同",
        ),
        (
            r"^(?P<p>\S+): an attachment a later seal added is named (?P<n>.+) as one listed "
            r"before it, which a reader that looks attachments up by name \(ofdrw\) hands out "
            r"instead$",
            "{p}：后加签章添加的附件与列表中在前的附件同名（{n}），按名称查找附件的阅读器（ofdrw）"
            "会给出在前的那个",
        ),
        (
            r"^readers differ on the copy's 加注 and attachments: (?P<x>.+)$",
            "阅读器显示的加注和附件无法确定一致（{x}）",
        ),
        (
            r"^(?P<p>\S+): too many earlier forms to try; read as changed$",
            "{p} 可能的早先版本过多，无法逐一核对，按已修改处理",
        ),
        (
            r"^(?P<p>\S+): it holds comments, CDATA or processing instructions; its earlier "
            r"forms are not searched, read as changed$",
            "{p} 含有注释、CDATA 或处理指令，不再推算其续签前的版本，按已修改处理",
        ),
        (
            r"^(?P<p>\S+): it holds (?P<n>\d+) tags, more than (?P<m>\d+); its earlier "
            r"forms are not searched, read as changed$",
            "{p} 含有 {n} 个标签（多于 {m} 个），不再推算其续签前的版本，按已修改处理",
        ),
        (
            r"^(?P<r>\S+) names parts that are not in the package: (?P<x>.+)$",
            "{r} 引用了文件包中不存在的部件：{x}",
        ),
        (
            r"^(?P<r>\S+): (?P<n>\S+), which is missing, is (?P<t>\S+) once unpacked on a "
            r"case-insensitive file system, where readers show it: each signature must cover "
            r"it itself$",
            "{r}：缺失的 {n} 在不区分大小写的文件系统上解包后就是 {t}，阅读器会显示它："
            "每个签章都必须自己保护它",
        ),
        (
            r"^the document shows parts the package lacks: (?P<x>.+) \(readers show it "
            r"without them; one supplied later must be signed\)$",
            "文档显示的部件在文件包中缺失：{x}（阅读器显示时缺少这些部件；之后补入的部件必须经签章保护）",
        ),
        (
            r"^(?P<p>\S+): too much to hash in this file \(every signature's digests "
            r"together\); read as changed$",
            "{p}：本文件需计算摘要的数据过多（所有签章合计），按已修改处理",
        ),
        (
            r"^the signed value is a bare SM2 value without a certificate: .+$",
            "签名值是不带证书的 SM2 签名值，仅凭文件无法验证",
        ),
        (
            r"^signature algorithm (?P<a>\S+) is not supported \(SM2 only\)$",
            "不支持签名算法 {a}（仅支持 SM2）",
        ),
        (
            r"^the signed hash is not the SM3 of (?P<p>\S+): it was changed$",
            "签名中的摘要与 {p} 的 SM3 摘要不符：该文件已被改动",
        ),
        (r"^the signed digest is not the SM3 of (?P<p>\S+)$", "签名摘要与 {p} 的 SM3 摘要不符"),
        (
            r"^the signer's SM2 signature( over TBS_Sign)? does not verify$",
            "签章人的 SM2 签名值验证不通过",
        ),
        (
            r"^the seal maker's SM2 signature over the seal does not verify .+$",
            "印章制作单位对印章的 SM2 签名验证不通过（印章被改动或伪造）",
        ),
        (
            r"^the signature carries a timestamp, which is not checked$",
            "签章带有时间戳，本次未验证该时间戳",
        ),
        (
            r"^the seal file (?P<p>\S+) is not the seal that was signed$",
            "印章文件 {p} 不是签章时使用的印章",
        ),
        (
            r"^the SignedData does not hold its signer's certificate$",
            "签名数据中没有签名人的证书",
        ),
        (r"^CheckMethod (?P<m>.+) is not supported$", "不支持摘要算法 {m}"),
        (r"^changed after signing: (?P<x>.+)$", "签章后被改动：{x}"),
        (
            r"^parts the document shows are covered by no signature: (?P<x>.+)$",
            "文档显示的部分内容不在任何签章的保护范围内：{x}",
        ),
        (
            r"^later signatures cover parts added after this one: (?P<x>.+)$",
            "此签章之后添加的部分由后续签章保护：{x}",
        ),
        # OFD structure no digest protects (signing.ofd.structure)
        (
            r"^(?P<p>\S+): its root element is in the foreign namespace (?P<n>.+)$",
            "{p} 的根元素属于外部命名空间 {n}",
        ),
        (
            r"^(?P<p>\S+): the element <(?P<e>\w+)> is in the namespace (?P<n>.+), "
            r"not the document's (?P<d>.+)$",
            "{p} 中的元素 <{e}> 属于命名空间 {n}，而不是文档的 {d}（不同阅读器读法不同）",
        ),
        (
            r"^(?P<p>\S+): what a certified copy adds there is in the namespaces (?P<n>.+), "
            r"not in one named OFD namespace: .+$",
            "{p} 中加注件添加的内容属于命名空间 {n}，不在同一个具名的 OFD 命名空间中："
            "按命名空间读取的阅读器（如 ofdrw 严格模式）不显示该加注",
        ),
        (
            r"^(?P<p>\S+): <(?P<e>\w+)> holds elements the standard does not define there: "
            r"(?P<x>.+)$",
            "{p} 的 <{e}> 中含有标准未定义的元素：{x}",
        ),
        (r"^(?P<p>\S+): a <(?P<e>\w+)> holds child elements$", "{p} 的 <{e}> 含有子元素"),
        (
            r"^(?P<p>\S+): it holds comments, CDATA or processing instructions$",
            "{p} 中含有注释、CDATA 或处理指令（按文本查找的阅读器会读到它们）",
        ),
        (
            r"^OFD\.xml lists (?P<n>\d+) documents \(DocBody\) but a signature leaves "
            r"OFD\.xml out$",
            "OFD.xml 列出 {n} 个文档（DocBody），但有签章未保护 OFD.xml："
            "阅读器可能打开未签章的文档",
        ),
        (r"^OFD\.xml: two documents name the same (?P<e>\w+)$", "OFD.xml 中两个文档指向同一个 {e}"),
        (
            r"^OFD\.xml: a DocBody holds (?P<n>\d+) <(?P<e>\w+)> elements$",
            "OFD.xml 的一个 DocBody 含有 {n} 个 <{e}> 元素",
        ),
        (
            r"^OFD\.xml: a DocBody lists document versions \(Versions\), which are not verified$",
            "OFD.xml 列出了文档的其他版本（Versions），这些版本未经验证",
        ),
        (
            r"^OFD\.xml: DocInfo names a cover image \(Cover\), but a signature leaves "
            r"OFD\.xml out$",
            "OFD.xml 的文档信息指定了封面图片（Cover），但有签章未保护 OFD.xml",
        ),
        (
            r"^the document (?P<d>\S+) has no signature beside a signed one "
            r"\(an unsigned document\)$",
            "文档 {d} 没有签章，却与已签章的文档放在同一文件中（未签章的文档）",
        ),
        (
            r"^signatures no Signatures\.xml lists \(an entry was removed\?\): (?P<x>.+)$",
            "Signatures.xml 未列出的签章（签章条目被删除？）：{x}",
        ),
        (
            r"^the stamp of the later seal (?P<s>.+) on page (?P<p>.+) covers what this signature "
            r"signed there: a later seal may place its stamp only where this one's page is blank$",
            "后加签章 {s} 的印章图像盖在第 {p} 页本签章已签署的内容上："
            "后加签章只能盖在本签章页面的空白处",
        ),
        (
            r"^a later seal by another signer \((?P<w>.+), signature (?P<i>[^,()]+)\) draws its "
            r"stamp on page (?P<p>.+) of this signature's document: what its picture shows is "
            r"that signer's statement, not this signature's$",
            "另一签署者的后加签章（{w}，签章 {i}）的印章图像位于本签章文档的第 {p} 页："
            "该图像所示内容是该签署者的陈述，并非本签章所签署的内容",
        ),
        (
            r"^this signature does not cover OFD\.xml: its document information \(DocInfo: "
            r"(?P<x>.+)\) is not signed by it, whatever later seals cover$",
            "本签章不保护 OFD.xml：其文档信息（DocInfo：{x}）未经本签章签署，"
            "后加签章的保护不能替代",
        ),
        (
            r"^readers differ on the (?P<e>SignedValue|PublicRes|DocumentRes) of (?P<p>\S+) "
            r"(?P<l>.+): ofdrw resolves a relative location with a folder twice \(from that "
            r"folder again\) and reads another file$",
            "阅读器读取的文件不一致：{p} 的 {e} {l} 是带文件夹的相对位置，"
            "ofdrw 会从该文件夹再解析一次，读到另一个未经验证的文件",
        ),
        (
            r"^(?P<p>\S+): its root element is <(?P<e>[^>]+)>, not <Document>$",
            "{p} 的根元素是 <{e}>，不是 <Document>（文档根节点 DocRoot 须指向文档）",
        ),
        (
            r"^readers differ on the page area: ofdrw takes it from (?P<d>\S+), in the "
            r"DocRoot's folder, not from the DocRoot (?P<r>\S+)$",
            "阅读器显示的页面大小不一致：ofdrw 取自 DocRoot 所在文件夹中的 {d}，而非 DocRoot {r}",
        ),
        (
            r"^this signature does not cover OFD\.xml but covers several documents "
            r"\((?P<x>.+)\): which one its signer showed \(DocRoot, named only in the "
            r"unsigned OFD\.xml\) cannot be told; only a later seal of the same signer over "
            r"OFD\.xml names it$",
            "本签章不保护 OFD.xml，却保护了多个文档（{x}）：无法确定签署者签章时显示的是哪一个"
            "（DocRoot 只在未签章的 OFD.xml 中指定）；"
            "只有同一签署者保护 OFD.xml 的后加签章才能确定",
        ),
        (
            r"^the later seals' stamps cannot be checked: (?P<x>.+)$",
            "无法检查后加签章的印章位置：{x}",
        ),
        (
            r"^parts no signature covers and no document uses: (?P<x>.+)$",
            "不在任何签章保护范围内、也未被文档使用的部件：{x}",
        ),
        (
            r"^OFD\.xml is covered by no signature: its document information \(DocInfo: "
            r"(?P<x>.+)\) is unsigned and may have been changed; only the signed pages are "
            r"evidence$",
            "OFD.xml 不在任何签章的保护范围内：其文档信息（DocInfo：{x}）未签章，可能已被改动；"
            "只有已签章的页面可作为依据",
        ),
        (
            r"^no trust bundle given: the chain cannot reach a trusted root$",
            "未提供信任列表：无法确认证书链到受信任的根证书",
        ),
        (
            r"^revocation status unknown: no current CRL of (?P<c>.+) in the trust bundle$",
            "吊销状态未知：信任列表中没有 {c} 的有效证书吊销列表",
        ),
        (
            r"^the seal was not valid at the signing time (?P<t>\S+) "
            r"\(valid (?P<a>\S+) to (?P<b>\S+)\)$",
            "签章时间 {t} 不在印章有效期内（{a} 至 {b}）",
        ),
        (
            r"^the signer's certificate is not among the seal's certificates$",
            "签章人的证书不是印章绑定的证书",
        ),
        (r"^the trust bundle holds no SM2 root$", "信任列表中没有 SM2 根证书"),
        (r"^no chain to a trusted SM2 root$", "证书不能链接到受信任的 SM2 根证书"),
        (
            r"^(?P<c>.+) was revoked on (?P<d>\S+), before the signing time it claims "
            r"\((?P<t>\S+)\)$",
            "{c} 已于 {d} 被吊销，早于其声称的签章时间 {t}",
        ),
        (
            r"^(the seal maker's certificate: )?(?P<c>.+) was revoked on (?P<d>\S+)$",
            "{c} 已于 {d} 被吊销",
        ),
        (
            r"^the trust bundle designates no seal maker, .+$",
            "信任列表未指定印章制作单位，无法确认印章由谁制作"
            "（请用 evault trust export --seal-maker 指定印章制作单位的证书）",
        ),
        (
            r"^the seal maker's certificate \((?P<c>.+)\) is not a seal maker the trust bundle "
            r"designates$",
            "印章制作者的证书（{c}）不是信任列表指定的印章制作单位",
        ),
        (
            r"^the seal maker's certificate: no chain to a trusted SM2 root$",
            "印章制作单位的证书不能链接到受信任的 SM2 根证书",
        ),
        (
            r"^the seal lists no signer certificate \(certList\), .+$",
            "印章未列出签章人证书（certList），不能与签章人绑定：任何持有该印章副本的人都可使用",
        ),
        (
            r"^the seal was made by its own signer's key: .+$",
            "印章由签章人自己的密钥制作：印章须由印章制作单位制作，不能由使用者本人制作",
        ),
        (
            r"^(the signing time|the seal's validStart|the seal's validEnd|a seal time) "
            r"\((?P<t>\S+)\) carries no time zone$",
            "签章或印章中的时间（{t}）没有时区，无法判断",
        ),
        (
            r"^the signer's certificate is only for (?P<x>.+) \(extendedKeyUsage\), not for "
            r"signing documents$",
            "签章人的证书仅限用于 {x}（扩展密钥用途），不能用于签署文档",
        ),
        (
            r"^CA certificate (?P<ca>.+): (?P<c>.+) is outside its permitted names "
            r"\(nameConstraints\)$",
            "机构证书 {ca}：{c} 不在其允许的名称范围内（名称约束）",
        ),
        (
            r"^CA certificate (?P<ca>.+): (?P<c>.+) is in its excluded names \(nameConstraints\)$",
            "机构证书 {ca}：{c} 在其排除的名称范围内（名称约束）",
        ),
        (
            r"^CA certificate (?P<ca>.+): nameConstraints on alternative names are not supported$",
            "机构证书 {ca}：不支持对备用名称的名称约束",
        ),
        (
            r"^a certificate on the chain cannot be read \((?P<x>\w+)\)$",
            "证书链上的证书无法读取（{x}）",
        ),
    )
]


def indication_zh(indication: Indication, sub: SubIndication | None) -> str:
    """The verdict in Chinese, e.g. "验证失败：签章所覆盖的内容已被改动"."""
    text = _INDICATION[indication]
    return f"{text}：{_SUB[sub]}" if sub is not None and sub in _SUB else text


def reason_zh(reason: str) -> str | None:
    """The reason in Chinese, or None when no pattern knows it."""
    return _prefixed(reason, _NAMED, "{who}：", _signature_reason)


def _signature_reason(text: str) -> str | None:
    return _prefixed(text, _DRAWN, "无法确定 {doc} 的页面绘制所用的部件：", _sentence)


def _prefixed(
    text: str, prefix: re.Pattern[str], zh: str, inner: Callable[[str], str | None]
) -> str | None:
    """``inner(text)``, else ``text`` as ``prefix`` then a sentence ``inner`` knows."""
    found = inner(text)
    if found is not None:
        return found
    m = prefix.match(text)
    if m is None:
        return None
    rest = inner(m["rest"])
    return None if rest is None else zh.format(**m.groupdict()) + rest


def _sentence(text: str) -> str | None:
    for pattern, template in _SENTENCES:
        m = pattern.match(text)
        if m is not None:
            return template.format(**m.groupdict())
    return None
