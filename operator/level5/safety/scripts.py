"""Names, addresses and identity labels in scripts other than Latin: one lexicon of label words by concept,
and the structures around the values, for layer 5 (``redaction.py``).

The Hyperscan prefilter sees one byte per character (Latin-1), so a label in Han, Hangul, Hebrew, Arabic,
Devanagari, Thai or Cyrillic letters is invisible to it. In a text that is not ASCII, a literal search
over its UTF-8 bytes (``prefilter.Literals``, under a millisecond per MB) finds where one of the words
stands, and ``SCRIPT_LABEL`` is matched there, which finds, in any of these scripts:
- a **label** for a person, an address or an identity number (``姓名``, ``이름``, ``שם``, ``الاسم``, ``नाम``,
  ``ชื่อ``, ``ФИО``; ``住所``, ``주소``, ``כתובת``, ``العنوان``, ``पता``, ``ที่อยู่``, ``Адрес``; ``ИНН``...)
  directly followed by ``:``, ``：``, ``=`` or ``>`` (a key, a field, an XML tag). A label followed by more
  words (``Имя файла:``, ``ชื่อไฟล์:``, ``名前空間:``) names something else;
- a **title or honorific** that only people take (``様``, ``先生``, ``女士``, ``님``, ``씨``; ``السيد``,
  ``آقای``, ``מר``, ``श्री``, ``นาย``, ``г-н``), with the name next to it;
- a **street word** of the script (``路``, ``街``, ``丁目``, ``番地``, ``号``; ``로``, ``길``; ``רחוב``;
  ``شارع``, ``خیابان``; ``मार्ग``; ``ถนน``, ``ซอย``; ``ул.``, ``вулиця``; ``οδός``): the field around it
  is an address when it also holds a number.
The lexicon lists concepts (a person's name, an address, a title, a street), each in the scripts' main
languages, not phrases per attack; the label words in Latin letters stay in ``redaction.py``'s lists.
"""

from __future__ import annotations

import re

# A person's name, as a field label.
PERSON_LABELS = (
    "姓名", "名字", "联系人", "聯絡人", "聯繫人", "收件人", "收货人", "收貨人", "客户姓名", "客戶姓名", "负责人",
    "負責人", "申请人", "申請人", "寄件人", "氏名", "お名前", "名前", "担当者", "宛名", "受取人", "顧客名",
    "申込者", "이름", "성명", "성함", "고객명", "수령인", "받는 사람", "받는사람", "담당자", "신청인", "보내는 사람",
    "שם", "שם מלא", "שם הלקוח", "שם פרטי", "שם משפחה", "לקוח", "נמען", "איש קשר", "الاسم", "اسم",
    "الاسم الكامل", "اسم العميل", "العميل", "المستلم", "نام", "نام و نام خانوادگی", "نام کامل", "مشتری",
    "گیرنده", "नाम", "पूरा नाम", "ग्राहक", "प्राप्तकर्ता", "संपर्क", "नाव", "নাম", "পুরো নাম", "গ্রাহক",
    "প্রাপক", "ਨਾਮ", "નામ", "பெயர்", "పేరు", "ಹೆಸರು", "പേര്", "ชื่อ", "ชื่อ-นามสกุล", "ชื่อลูกค้า",
    "ผู้รับ", "ลูกค้า", "ຊື່", "ឈ្មោះ", "အမည်", "имя", "фио", "ф.и.о.", "клиент", "получатель",
    "контактное лицо", "фамилия", "ім'я", "імʼя", "піб", "клієнт", "одержувач", "отримувач", "име",
    "име и презиме", "получател", "імя", "аты-жөні", "нэр", "όνομα", "ονοματεπώνυμο", "πελάτης",
    "παραλήπτης", "անուն", "სახელი", "კლიენტი", "მიმღები", "ስም",
)  # fmt: skip
ADDRESS_LABELS = (
    "地址", "住址", "收货地址", "收貨地址", "送货地址", "配送地址", "通讯地址", "通訊地址", "寄送地址", "住所",
    "所在地", "送付先", "配送先", "お届け先", "주소", "배송지", "배송 주소", "거주지", "소재지", "כתובת",
    "כתובת למשלוח", "כתובת מגורים", "מען", "العنوان", "عنوان", "عنوان الشحن", "عنوان التسليم", "نشانی",
    "آدرس", "पता", "ठेगाना", "पत्ता", "ঠিকানা", "ਪਤਾ", "સરનામું", "முகவரி", "చిరునామా", "ವಿಳಾಸ",
    "വിലാസം", "ที่อยู่", "ที่อยู่จัดส่ง", "ທີ່ຢູ່", "អាសយដ្ឋាន", "လိပ်စာ", "адрес", "адрес доставки",
    "место жительства", "адреса", "адреса доставки", "мекенжай", "хаяг", "διεύθυνση",
    "διεύθυνση αποστολής", "հասցե", "მისამართი", "አድራሻ",
)  # fmt: skip
# Titles before a name and honorifics after one (Han and kana, Hangul: written without a space).
TITLES_BEFORE = (
    "السيد", "السيدة", "الأستاذ", "آقای", "خانم", "מר", "גב'", "גברת", "श्री", "श्रीमती", "सुश्री",
    "শ্রী", "শ্রীমতী", "г-н", "г-жа", "господин", "госпожа", "пан", "пані", "κ.", "κα", "κύριος", "κυρία",
)  # fmt: skip
TITLES_ATTACHED = ("นางสาว", "นาย", "นาง", "เรียนคุณ", "เรียน คุณ", "ถึงคุณ", "ถึง คุณ", "สวัสดีคุณ", "สวัสดี คุณ")
"""Thai titles, written without a space before the name; and คุณ (Khun, anyone's title, and also "you")
after a greeting or an address ("Dear", "To", "Hello"), where it can only be a title."""
THAI_NAME = re.compile("[\u0e01-\u0e4e]+(?:[ \t][\u0e01-\u0e4e]+)?")
"""A Thai name after its title: a given name and a family name, one space between (a Thai sentence goes
on after a space too, so no more words are taken)."""
HONORIFICS_AFTER = ("様", "さま", "さん", "先生", "女士", "小姐", "님", "씨")
# Street and place words that an address in the script holds next to a number.
STREET_WORDS = (
    "路", "街", "巷", "弄", "号", "號", "丁目", "番地", "大道", "胡同", "로 ", "길 ", "번길", "동 ", "רחוב",
    "רח'", "שדרות", "شارع", "خیابان", "کوچه", "پلاک", "بلوار", "मार्ग", "रोड", "गली", "नगर", "सड़क",
    "টোল", "সড়ক", "রোড", "বাড়ী", "ถนน", "ซอย", "ถ.", "ซ.", "ตำบล", "อำเภอ", "หมู่", "ул.", "улица",
    "пр-т", "проспект", "наб.", "пер.", "ш.", "вул.", "вулиця", "бул.", "буд.", "οδός", "λεωφόρος",
    # A microdistrict and a flat, as Russian writes them across Central Asia ("мкр. Самал-2, кв. 14");
    # Kazakh's street and avenue.
    "мкр.", "мкрн.", "кв.", "көшесі", "даңғылы",
    # Armenian: a street and an avenue, abbreviated or not, and a house ("Աբովյան փող. 112", "տուն 8").
    "փող.", "պող.", "փողոց", "պողոտա", "տուն ",
    # Hebrew: rural settlements, whose addresses name a farm's number rather than a street ("משק 17").
    "מושב", "קיבוץ", "משק ",
)  # fmt: skip

_NON_LATIN = "\u0370-\u1fff\u2e80-\ua4ff\uac00-\ud7af\uf900-\ufaff"
"""Letters of the scripts this module reads (Greek up to Ethiopic and Khmer, CJK, Hangul)."""
# Letters, and the combining marks that Indic, Thai, Hebrew and Arabic words hold (Python's \w does not
# count a vowel sign as a word character: "पूर्णिमा" would break into pieces).
MARK = (
    "[\u0300-\u036f\u0591-\u05c7\u064b-\u065f\u0670\u06d6-\u06ed\u0900-\u0dff\u0e31-\u0e4e\u0eb1-\u0ecd"
    "\u0f00-\u109f\u1780-\u17ff\u200c\u200d]"
)
LETTER = rf"[^\W\d_]|{MARK}"
NAME = rf"(?:{LETTER})+(?:['’\-·・](?:{LETTER})+)*(?:[ \t](?:{LETTER})+(?:['’\-·・](?:{LETTER})+)*){{0,3}}"


_UNSPACED = re.compile("[\u0e00-\u109f\u1780-\u17ff\u2e80-\u9fff\uf900-\ufaff]")
"""Scripts written without spaces between words (Thai, Lao, Burmese, Khmer, Han, kana): a label there
may follow another word directly."""


def _forms(words: tuple[str, ...] | list[str], spaced: bool | None = None) -> list[str]:
    """The words, in their written, capitalised and upper-case forms (cheaper than IGNORECASE over a
    megabyte), longest first; with `spaced`, only the words of spaced (or unspaced) scripts."""
    chosen = [w for w in words if spaced is None or spaced != bool(_UNSPACED.match(w))]
    forms = {form for w in chosen for form in (w, w[:1].upper() + w[1:], w.upper())}
    return sorted(forms, key=len, reverse=True)


def _alternation(words: tuple[str, ...] | list[str], spaced: bool | None = None) -> str:
    """The words' forms (``_forms``) as one alternation, longest first."""
    return "|".join(re.escape(w) for w in _forms(words, spaced)) or "(?!)"


def _labels(words: tuple[str, ...] | list[str]) -> str:
    """A label: in a spaced script not glued to a word before it (``IP-адрес`` is not an address label)."""
    return rf"(?<![\w-])(?:{_alternation(words, spaced=True)})|(?:{_alternation(words, spaced=False)})"


# (Armenian's comma, U+055D, stands where other scripts put a colon after a label.)
_SEPARATOR = r"[ \t]*[\"'»」』]?[ \t]*(?:[:：=\u055d]|=>|>)[ \t]*[\"'«「『]?[ \t]*"


def script_label(identity_labels: list[str]) -> tuple[re.Pattern[str], list[str]]:
    """What is found in a non-ASCII text (labels, with identity labels in these scripts; titles,
    honorifics and street words), and where to look for it: every word as a plain literal (all its
    forms, longest first), which a literal search finds far faster than the pattern whose boundaries is
    then checked there (half a second per MB when searched for directly in Python's re)."""
    words = (*PERSON_LABELS, *ADDRESS_LABELS, *identity_labels, *TITLES_BEFORE, *TITLES_ATTACHED)
    literals = _forms((*words, *HONORIFICS_AFTER, *STREET_WORDS))
    return re.compile(
        rf"(?:(?P<person>{_labels(PERSON_LABELS)})|(?P<address>{_labels(ADDRESS_LABELS)})){_SEPARATOR}"
        # Persian's "name of" a doer, whose word ends in the agent suffix "-nde" (the payer, the sender,
        # the receiver: "نام پرداخت‌کننده:"), names a person too.
        rf"|(?<![\w-])(?P<agent>نام[ \t]+[\u0600-\u06ff\u200c]{{1,24}}?نده){_SEPARATOR}"
        # A person's label as a cell of a table's header line (``id;піб;відділ``): its column holds names.
        rf"|(?:(?<=[,;\t|\n ])|^)(?P<column>{_alternation(PERSON_LABELS)})(?=[ \t]*(?:[,;\t|\n]|$))"
        rf"|(?P<identity>{_labels(identity_labels)})[ \t]*[\"'»]?[ \t]*(?:[:：=>#№][ \t]*[\"'«]?[ \t]*)?"
        rf"|(?<![\w-])(?P<title>{_alternation(TITLES_BEFORE)})[ \t](?={LETTER})"
        rf"|(?P<title_attached>{_alternation(TITLES_ATTACHED)})(?=[\u0e01-\u0e2e])"
        rf"|(?P<honorific>{_alternation(HONORIFICS_AFTER)})"
        rf"|(?P<street>{_alternation(STREET_WORDS)})"
    ), literals


# Han and kana place words: an address in these scripts holds two of them (a province, a city, a
# district, a road, a number), where one alone is ordinary prose ("第3号").
CJK_PLACES = re.compile("省|市|区|區|県|县|縣|州|都|府|路|街|巷|弄|号|號|丁目|番地?|座|楼|樓|室|村|町|镇|鎮")
NAME_AT = re.compile(NAME)
# A name written before an honorific: two to five Han or kana characters, or two to four Hangul syllables.
NAME_BEFORE_HONORIFIC = re.compile(r"(?:[\u4e00-\u9fff\u3040-\u30ff]{2,5}|[\uac00-\ud7a3]{2,4})$")
# What ends a field: a line break, a quote, a bar, a tag, a bracket, a tab, a dash between fields.
FIELD_END = re.compile(r"[\n\"|<>{}\[\]\t;]| — | - ")
FIELD_START = re.compile(r"[\n\"|<>{}\[\]\t;:：=\u055d,，]|^")
DIGIT = re.compile(r"\d")
NON_LATIN_LETTER = re.compile(rf"[{_NON_LATIN}]")


def field_end(text: str, start: int, limit: int = 160) -> int:
    """Where the field that starts at `start` ends (at most `limit` characters on)."""
    m = FIELD_END.search(text, start, min(len(text), start + limit))
    end = m.start() if m else min(len(text), start + limit)
    while end > start and text[end - 1] in " \t,，.。":
        end -= 1
    return end


def field_start(text: str, end: int, limit: int = 80) -> int:
    """Where the field that holds position `end` starts (after its separator; at most `limit` back)."""
    lowest = max(0, end - limit)
    cursor = end
    while cursor > lowest and text[cursor - 1] not in '\n"|<>{}[]\t;:：=\u055d':
        cursor -= 1
    while cursor < end and text[cursor] in " \t«「『'":
        cursor += 1
    return cursor
