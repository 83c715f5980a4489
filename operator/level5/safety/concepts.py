"""Layer 1's concept lexicon: the words an override is made of, by concept, in many languages.

An override names two concepts in one sentence, in whatever language: an act of dismissal ("ignore",
"forget", "disregard") and its object ("instructions", "rules", "guidelines", "commands", "prompt").
This table holds the word stems of both concepts (and of "previous", for the other languages' check in
``injection.py``) for a fixed list of languages chosen without looking at any attack: the world's most
spoken languages and every official language of Europe, Africa's and Asia's largest (60 in all,
``LANGUAGES``). It is one list per *concept*, a few stems per language, not a list of attack phrases:
``dismissal_near_object`` finds the two concepts within one sentence, in either order and in any mix of
languages. Stems are matched at a word's start in scripts that separate words with spaces, anywhere in
those that do not (Thai, Lao, Khmer, Burmese, Han and kana) and in Arabic script (whose clitics attach:
"وتجاهل").

More concepts, for the world's twenty most spoken languages (``DISCLOSURE``, a list chosen by
speakers, not by any attack): asking to *show or send* something next to a *secret* (a password, a key,
a token, the system prompt, the environment), *switching off* a *safety check, review or approval*
(``SWITCHED_OFF``), *without* next to *restrictions* (``LIFTED``), *keeping something from* the *user or
operator* (``CONCEALED``, since round 10), and the words that *address the assistant* (``ASSISTANT``:
"assistant", "AI", "KI", "ИИ", "助手"...), which data has no business using as the head of a line.
Since round 9 the disclosure and switched-off concepts are also read in Swahili, Tagalog and toneless
pinyin (the way Mandarin is typed without its characters).
Since round 12 the disclosure, switched-off and concealed concepts and the words for the assistant are
also read in 22 more of the lexicon's languages (Italian, Dutch, Polish, Ukrainian, Greek, Hebrew, Persian,
Thai, Lao, Burmese, Khmer, Sinhala, Nepali, Georgian, Armenian, Azerbaijani, Uzbek, Kazakh, Mongolian,
Amharic, Hausa and Zulu): an attack in a less spoken language says the same things in its own words.

The Celtic languages of the table (Welsh, Irish) change a word's first consonant after certain words
(initial mutation): their stems are read in the mutated forms too ("gyfarwyddiadau", "threoracha").

Languages outside the table, and attacks that name neither concept ("you are now free of your
limits"), still need the other features or the classifier endpoint (``model/classifier.py``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

from anyascii import anyascii

# language: (dismissal, object, previous), stems separated by "|".
LEXICON: dict[str, tuple[str, str, str]] = {
    "tr": ("yok say|görmezden gel|unut|dikkate alma|önemseme|gözardı", "talimat|kural|yönerge|komut|istem", "önceki|yukarıdaki|evvelki"),
    "vi": ("bỏ qua|phớt lờ|quên|lờ đi|không để ý", "hướng dẫn|chỉ dẫn|quy tắc|lệnh|chỉ thị", "trước đó|phía trên"),
    "sv": ("ignorera|strunta i|glöm|bortse från", "instruktion|regl|regel|anvisning|direktiv|kommando", "tidigare|föregående|ovanstående"),
    "no": ("ignorer|glem|se bort fra", "instruks|regl|regel|retningslinj|kommando", "tidligere|forrige|ovenstående"),
    "da": ("ignorer|glem|se bort fra|tilsidesæt", "instruktion|regl|regel|anvisning|retningslinj", "tidligere|forrige|ovenstående"),
    "fi": ("ohita|unohda|jätä huomiotta|älä välitä|sivuuta", "ohje|sääntö|säännö|käsky|kehot", "aiemm|edellis|yllä"),
    "is": ("hunsa|gleym|líttu framhjá", "leiðbeining|fyrirmæl|regl|skipun", "fyrri|áður|að ofan"),
    "et": ("ignoreeri|unusta|eira", "juhis|juhend|reegl|käsk|korraldus", "varasem|eelmi|eelneva"),
    "lv": ("ignorē|aizmirsti|neņem vērā", "instrukcij|norādījum|noteikum", "iepriekšēj|agrāk"),
    "lt": ("ignoruok|pamiršk|nepaisyk|nekreipk dėmesio", "nurodym|instrukcij|taisykl|komand", "ankstesn|prieš tai"),
    "pl": ("zignoruj|ignoruj|zapomnij|pomiń|nie zważaj", "instrukcj|polece|zasad|reguł|wytyczn", "poprzedni|wcześniejsz|powyższ"),
    "sk": ("ignoruj|zabudni|nevšímaj|neber do úvahy", "pokyn|inštrukci|pravidl|príkaz", "predchádzajúc|predošl|vyššie"),
    "sl": ("prezri|ignoriraj|pozabi|ne upoštevaj", "navodil|pravil|ukaz", "prejšnj|predhodn|zgornj"),
    "hr": ("zanemari|ignoriraj|ignoriši|zaboravi", "uput|pravil|naredb|instrukcij", "prethodn|ranij|gornj"),
    "sr": ("занемари|игнориши|заборави", "упутств|инструкциј|правил|наредб", "претходн|раниј|горњ"),
    "mk": ("игнорирај|заборави|занемари", "упатств|инструкци|правил|наредб", "претходн|горн"),
    "bg": ("игнорирай|забрави|пренебрегни", "инструкци|указани|правил|насок", "предишн|предходн|горн"),
    "be": ("ігнаруй|праігнаруй|забудзь|не звяртай", "інструкцы|правіл|указанн", "папярэдн|ранейш|вышэй"),
    "ro": ("ignoră|ignora|uită|nu ține cont", "instrucțiun|instructiun|regul|indicați|comenz", "anterioar|precedent|de mai sus"),
    "hu": ("figyelmen kívül|felejtsd|ne törődj", "utasítás|szabály|irányelv|parancs", "korábbi|előző|fenti"),
    "el": ("αγνόησ|αγνοησ|ξέχασ|παράβλεψ|μην λάβεις υπόψη", "οδηγί|κανόν|εντολ", "προηγούμεν|παραπάνω|πρωτύτερ"),
    "sq": ("injoro|harro|mos merr parasysh|shpërfill", "udhëzim|rregull|komand", "mëparshme|më parë|sipër"),
    "eu": ("ez ikusi|baztertu|ahaztu|ez egin kasu", "argibide|jarraibide|arau|agindu", "aurreko|lehenago|goiko"),
    "ca": ("ignora|oblida|no facis cas", "instrucci|normes|regl|indicaci", "anterior|prèvi|de dalt"),
    "gl": ("ignora|esquece|non fagas caso", "instrución|instrucións|norma|regra|indicaci", "anterior|previa|de arriba"),
    "cy": ("anwybydda|anghofia|diystyra", "cyfarwydd|rheol|gorchymyn|gorchmyn", "blaenorol|cynt|uchod"),
    "ga": ("neamhaird|déan dearmad", "treoir|treoracha|riail|rialacha|ordú", "roimhe|roimh ré|thuas|níos luaithe"),
    "af": ("ignoreer|vergeet|verontagsaam|steur jou nie", "instruksie|reël|opdrag|riglyn", "vorige|voorafgaande|bogenoemde|hierbo"),
    "he": ("התעלם|תתעלם|שכח|תשכח|אל תתייחס", "הוראות|ההוראות|הנחיות|ההנחיות|כללים|הכללים|פקודות|הוראה|הנחיה", "הקודמות|הקודמים|קודמות|קודמים|הקודם|לעיל"),
    "ar": ("تجاهل|انس |إنس |لا تلتفت|اهمل|أهمل|تخط", "تعليمات|التعليمات|قواعد|القواعد|أوامر|الأوامر|إرشادات|الإرشادات", "السابقة|السابق|أعلاه"),
    "fa": ("نادیده|فراموش کن|توجه نکن", "دستورالعمل|دستورات|دستور|قوانین|قواعد|راهنمایی", "قبلی|پیشین"),
    "ur": ("نظر انداز|نظرانداز|بھول جاؤ|اگنور", "ہدایات|ہدایت|احکامات|قواعد|اصول", "پچھلی|پچھلے|سابقہ|گزشتہ"),
    "hi": ("अनदेखा|नजरअंदाज|नज़रअंदाज़|भूल जाओ|उपेक्षा|ध्यान मत", "निर्देश|नियम|आदेश|हिदायत", "पिछले|पिछली|पूर्व|पहले"),
    "mr": ("दुर्लक्ष|विसर", "सूचना|सूचनां|नियम|आदेश", "मागील|आधीच्या|पूर्वीच्या|वरील"),
    "ne": ("बेवास्ता|बिर्स|ध्यान नदेऊ|उपेक्षा", "निर्देशन|निर्देश|नियम|आदेश", "अघिल्ला|पहिलेका|माथिका"),
    "bn": ("উপেক্ষা|ভুলে যাও|অগ্রাহ্য|এড়িয়ে", "নির্দেশ|নিয়ম|আদেশ", "আগের|পূর্ববর্তী|পূর্বের|উপরের"),
    "pa": ("ਨਜ਼ਰਅੰਦਾਜ਼|ਅਣਡਿੱਠ|ਭੁੱਲ ਜਾ", "ਹਦਾਇਤ|ਨਿਰਦੇਸ਼|ਨਿਯਮ", "ਪਿਛਲੀ|ਪਿਛਲੇ|ਪਹਿਲਾਂ"),
    "gu": ("અવગણ|ભૂલી જા|ધ્યાન ન", "સૂચના|નિર્દેશ|નિયમ", "અગાઉ|પહેલાં|પાછલ"),
    "ta": ("புறக்கணி|மறந்து|பொருட்படுத்தா", "அறிவுறுத்த|வழிமுறை|விதி|கட்டளை", "முந்தைய|முன்பு|மேலே"),
    "te": ("విస్మరించ|పట్టించుకోవద్దు|మర్చిపో", "సూచన|నియమ|ఆదేశ", "మునుపటి|ముందు|పైన"),
    "kn": ("ನಿರ್ಲಕ್ಷಿಸ|ಮರೆತು|ಕಡೆಗಣಿಸ", "ಸೂಚನೆ|ನಿಯಮ|ಆದೇಶ", "ಹಿಂದಿನ|ಮೊದಲಿನ|ಮೇಲಿನ"),
    "ml": ("അവഗണിച്ച|അവഗണിക്ക|മറക്ക|മറന്ന", "നിർദ്ദേശ|നിയമ|ആജ്ഞ", "മുമ്പത്തെ|മുൻപത്തെ|മുകളിലെ"),
    "si": ("නොසලකා|අමතක|නොතකා", "උපදෙස්|නීති|විධාන", "පෙර|කලින්|ඉහත"),
    "th": ("ไม่ต้องสนใจ|เพิกเฉย|ละเว้น|ลืม|ไม่สนใจ|มองข้าม", "คำสั่ง|คำแนะนำ|กฎ|ข้อบังคับ", "ก่อนหน้า|ข้างต้น|ที่ผ่านมา"),
    "lo": ("ບໍ່ສົນໃຈ|ລືມ|ລະເລີຍ", "ຄຳແນະນຳ|ຄຳສັ່ງ|ກົດ", "ກ່ອນໜ້າ|ກ່ອນ"),
    "km": ("មិនអើពើ|បំភ្លេច|ព្រងើយ", "ការណែនាំ|សេចក្តីណែនាំ|ច្បាប់|បញ្ជា", "មុន|ពីមុន"),
    "my": ("လျစ်လျူရှု|မေ့|ဂရုမစိုက်", "ညွှန်ကြား|စည်းမျဉ်း|အမိန့်", "ယခင်|အရင်|အထက်"),
    "ko": ("무시|잊어|잊고|신경 쓰지", "지시|지침|명령|규칙|프롬프트", "이전|앞의|위의|기존"),
    "ms": ("abaikan|lupakan|jangan hiraukan|endahkan", "arahan|peraturan|perintah|panduan", "terdahulu|sebelumnya|sebelum ini"),
    "tl": ("huwag pansinin|balewalain|kalimutan|ipagwalang-bahala", "tagubilin|panuto|patakaran|utos", "nauna|dati"),
    "sw": ("puuza|sahau|usijali|achana na", "maagizo|maelekezo|sheria|amri", "yaliyotangulia|zilizotangulia|awali|iliyopita"),
    "ha": ("yi watsi|watsi da|manta|kar ka kula", "umarni|dokoki|ka'idoji|ƙa'idoji", "gabata|na baya"),
    "yo": ("fojú fo|gbàgbé|gbagbe|má ṣe ka", "ìtọ́nisọ́nà|itọnisọna|òfin|àṣẹ|ilana", "ṣáájú|tẹ́lẹ̀"),
    "zu": ("ziba|ungazinaki|khohlwa|ukhohlwe|ungakhathaleli|ityeshele", "imiyalelo|umyalelo|imithetho|imiyalezo", "ngaphambilini|ngaphambili|ngaphezulu"),
    "am": ("ችላ|እርሳ|አትስማ", "መመሪያ|ትእዛዝ|ደንብ|ሕግ", "የቀደሙ|ቀደም|ቀዳሚ|ከላይ"),
    "so": ("indha tir|illow|ha dhegaysan", "tilmaam|amar|sharci|xeer", "hore"),
    "ka": ("უგულებელყ|დაივიწყ|ნუ მიაქცევ", "ინსტრუქცი|მითითებ|წეს|ბრძანებ", "წინა|ადრინდელ|ზემოთ"),
    "hy": ("անտեսիր|անտեսել|մոռացիր|մի հաշվի առ", "հրահանգ|ցուցում|կանոն", "նախորդ|վերևի|նախկին"),
    "az": ("nəzərə alma|unut|məhəl qoyma|göz ardı", "təlimat|qayda|göstəriş|əmr", "əvvəlki|yuxarıdakı|öncəki"),
    "kk": ("елеме|ұмыт|назар аударма", "нұсқау|ереже|бұйрық", "алдыңғы|бұрынғы|жоғарыдағы"),
    "uz": ("e'tiborsiz|e’tiborsiz|unut|e'tibor berma|inobatga olma", "ko'rsatma|ko‘rsatma|ko’rsatma|qoida|buyruq|yo'riqnoma", "oldingi|avvalgi|yuqoridagi"),
    "ky": ("этибарга алба|этибар алба|унут|көңүл бурба", "нускама|эреже|буйрук|көрсөтмө", "мурунку|алдыңкы|жогорудагы"),
    "mn": ("үл тоомсорло|тоомсорлохгүй|март|үл хэрэгс", "заавар|зааврыг|дүрэм|тушаал", "өмнөх|дээрх|урьдах"),
}  # fmt: skip
LANGUAGES = tuple(LEXICON)

_UNSPACED = re.compile("[\u0600-\u06ff\u0e00-\u109f\u1780-\u17ff\u2e80-\u9fff]")
"""Thai, Lao, Burmese, Khmer, Han and kana (no spaces between words) and Arabic script (attached
clitics): a stem may start anywhere in a word."""
_SENTENCE_END = re.compile(r"[.!?;\n()。！？।॥።]")
REACH = 80
"""How far apart (in characters, within one sentence) the two concepts may stand."""


def _form(stem: str) -> str:
    """A stem as ``injection.normalise`` leaves text: NFKC and case-folded."""
    return unicodedata.normalize("NFKC", stem).casefold()


def _column(table: Mapping[str, Sequence[str]], column: int) -> list[str]:
    """Every stem of one column of a table (one row per language, stems separated by "|")."""
    return [stem for row in table.values() for stem in row[column].split("|")]


# The Celtic languages change a word's first consonant after certain words ("cyfarwyddyd" is also
# "gyfarwyddyd", "nghyfarwyddyd", "chyfarwyddyd" in Welsh; "treoir" is also "threoir", "dtreoir" in Irish):
# each stem of theirs is read in its mutated forms too. Initial -> its mutations, longest initial first.
_MUTATIONS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "cy": (
        ("ll", ("l",)), ("rh", ("r",)),
        ("c", ("g", "ngh", "ch")), ("p", ("b", "mh", "ph")), ("t", ("d", "nh", "th")),
        ("b", ("f", "m")), ("d", ("dd", "n")), ("g", ("", "ng")), ("m", ("f",)),
    ),
    "ga": (
        ("b", ("bh", "mb")), ("c", ("ch", "gc")), ("d", ("dh", "nd")), ("f", ("fh", "bhf")), ("g", ("gh", "ng")),
        ("m", ("mh",)), ("p", ("ph", "bp")), ("s", ("sh", "ts")), ("t", ("th", "dt")),
    ),
}  # fmt: skip


def _mutated(stem: str, language: str) -> list[str]:
    for initial, forms in _MUTATIONS.get(language, ()):
        if stem.startswith(initial):
            rest = stem[len(initial) :]
            return [form + rest for form in forms if len(form + rest) >= 4]
    return []


def _stems(table: Mapping[str, Sequence[str]], column: int) -> list[str]:
    stems = {_form(s) for s in _column(table, column)}
    for language, row in table.items():
        stems.update(_form(m) for stem in row[column].split("|") for m in _mutated(stem, language))
    return sorted(stems, key=len, reverse=True)


def _pattern(stems: list[str]) -> re.Pattern[str]:
    """A stem at a word's start (spaced scripts) or anywhere (unspaced): one literal-led alternation,
    which Python's re scans quickly; the word-start test is made on each hit."""
    return re.compile("|".join(re.escape(s) for s in stems))


DISMISSAL = _pattern(_stems(LEXICON, 0))
OBJECT = _pattern(_stems(LEXICON, 1))
PREVIOUS = _pattern(_stems(LEXICON, 2))


# The world's twenty most spoken languages by total speakers (Ethnologue): English is read by
# injection.py's own features and so is Nigerian Pidgin, whose words are English; Yue is read through the
# Chinese characters; Korean is the next. (show or send, secret), stems separated by "|".
DISCLOSURE: dict[str, tuple[str, str]] = {
    "zh": ("显示|展示|告诉|发给|发送|透露|泄露|打印|输出|给我看", "密码|口令|密钥|秘钥|令牌|系统提示|提示词|环境变量|凭证|凭据|系统指令|系统说明"),
    "hi": ("दिखा|बता|भेज|प्रिंट|छाप", "पासवर्ड|गुप्त|सीक्रेट|टोकन|प्रॉम्प्ट|पर्यावरण चर|एपीआई की"),
    # Since round 15, Punjabi (Gurmukhi) in every table, as in ``LEXICON``.
    "pa": ("ਦਿਖਾ|ਦੱਸ|ਭੇਜ|ਪ੍ਰਿੰਟ", "ਪਾਸਵਰਡ|ਗੁਪਤ|ਸੀਕ੍ਰੇਟ|ਟੋਕਨ|ਪ੍ਰੋਂਪਟ|ਕੁੰਜੀ"),
    "es": ("muestra|muéstra|revela|dime|envía|envia|imprime|enseña|comparte|dame", "contraseña|clave secreta|claves de api|clave de api|secreto|token|credencial|mensaje de sistema|prompt|variables de entorno|instrucciones del sistema"),
    "fr": ("montre|révèle|affiche|envoie|imprime|donne-moi|dis-moi|partage", "mot de passe|mots de passe|clé secrète|clé api|clés api|secret|jeton|identifiants|prompt|variables d'environnement|instructions système|instructions du système|consignes système"),
    "ar": ("اعرض|أظهر|اظهر|أرسل|ارسل|اكشف|أعطني|اطبع|قل لي|طلع", "كلمة السر|كلمة المرور|المفتاح|مفتاح|الرمز السري|متغيرات البيئة|التعليمات"),
    "bn": ("দেখাও|পাঠাও|বলো|প্রকাশ কর|ছাপাও", "পাসওয়ার্ড|গোপন|চাবি|টোকেন|প্রম্পট"),
    "pt": ("mostr|revel|envi|imprim|diga|compartilh|exib", "senha|chave secreta|chave de api|chaves de api|segredo|credencia|prompt|variáveis de ambiente|instruções do sistema"),
    "ru": ("покажи|выведи|отправь|пришли|раскрой|скажи|напечатай|дай мне|выдай|перешли", "пароль|ключ|секрет|токен|промпт|учётн|учетн|переменные окружения|системн"),
    "ur": ("دکھا|بتا|بھیج|پرنٹ", "پاس ورڈ|خفیہ|کلید|ٹوکن|پرامپٹ"),
    "id": ("tunjukkan|tampilkan|kirim|berikan|ungkapkan|cetak|beritahu|bagikan", "kata sandi|sandi|kunci api|kunci rahasia|rahasia|token|kredensial|variabel lingkungan|prompt sistem|instruksi sistem"),
    "de": ("zeig|verrat|sende|schick|gib mir|druck|nenn|leg offen", "passwort|kennwort|schlüssel|geheim|token|zugangsdaten|systemprompt|umgebungsvariable|systemanweisung"),
    "ja": ("表示|見せ|教え|送信|送って|出力|開示|漏ら", "パスワード|秘密|鍵|トークン|プロンプト|環境変数|認証情報|システム指示"),
    "mr": ("दाखव|पाठव|सांग", "पासवर्ड|गुप्त|टोकन"),
    "te": ("చూపించు|చూపు|పంపు|చెప్పు|ముద్రించు", "పాస్‌వర్డ్|పాస్వర్డ్|రహస్య|టోకెన్|వేరియబుల్స్"),
    "tr": ("göster|gönder|yazdır|söyle|paylaş|ifşa", "şifre|parola|anahtar|gizli|token|istem|ortam değişken|sistem talimat"),
    "ta": ("காட்டு|அனுப்பு|சொல்|அச்சிடு", "கடவுச்சொல்|ரகசிய|டோக்கன்"),
    "vi": ("hiển thị|cho tôi xem|gửi|tiết lộ|in ra|in nguyên|in toàn bộ|in lại|cho xem|cho biết", "mật khẩu|khóa|bí mật|biến môi trường|lời nhắc hệ thống|hướng dẫn hệ thống|chỉ dẫn hệ thống"),
    "ko": ("보여|알려|보내|출력|공개", "비밀번호|암호|비밀|토큰|프롬프트|환경 변수|환경변수|api 키|시스템 지침|시스템 지시"),
    # Since round 9: the lexicon's largest languages of East Africa and the Philippines, and Mandarin as it
    # is typed in pinyin (without tones).
    "sw": ("nakili|onyesha|tuma|toa|fichua|niambie|andika", "siri|nenosiri|nywila|ufunguo|tokeni|maagizo ya mfumo|maelekezo ya mfumo"),
    "tl": ("ipakita|ipadala|ibigay|sabihin|ilabas|ibunyag|isulat", "password|lihim|susi|token|system prompt|mga tagubilin ng sistema"),
    "zh-latn": ("shuchu|xianshi|gaosu|fasong|xielou|dayin", "mima|miyao|xitong tishi|xitong xiaoxi|tishici|huanjing bianliang"),
    # Since round 12: the rest of the lexicon's languages of Europe, Africa and Asia that its author could
    # write (the override lexicon already reads them), chosen by the lexicon, not by any attack.
    "it": ("mostra|rivela|invia|stampa|dimmi|dammi|condividi", "password|chiave segreta|chiavi api|chiave api|segret|token|credenzial|variabili d'ambiente|prompt di sistema"),
    "nl": ("toon|laat zien|onthul|stuur|verstuur|druk af|geef me|deel", "wachtwoord|geheime sleutel|api-sleutel|geheim|token|inloggegevens|omgevingsvariabel|systeemprompt"),
    "pl": ("pokaż|ujawnij|wyślij|wydrukuj|wypisz|podaj|udostępnij", "hasł|klucz|sekret|token|dane logowania|zmienne środowiskowe|prompt systemowy"),
    "fa": ("نشان بده|بفرست|ارسال کن|چاپ کن|فاش کن|بگو", "رمز عبور|گذرواژه|کلید|توکن|رمز|متغیرهای محیطی"),
    "th": ("แสดง|ส่ง|พิมพ์|เปิดเผย|บอก", "รหัสผ่าน|กุญแจ|คีย์|ความลับ|โทเค็น|ตัวแปรสภาพแวดล้อม"),
    "am": ("አሳይ|አትም|ላክ|ግለጽ|ንገረኝ", "ሚስጥር|የይለፍ ቃ|ቁልፍ|ቁልፎ|ቶከን"),
    "si": ("පෙන්වන්න|පෙන්වා|යවන්න|කියන්න", "රහස්|මුරපද|යතුර|ටෝකන"),
    "km": ("បង្ហាញ|ផ្ញើ|បោះពុម្ព|ប្រាប់", "ពាក្យសម្ងាត់|សម្ងាត់|ថូខឹន"),
    "kk": ("көрсет|шығар|жібер|бер", "құпия|кілт|токен"),
    "uk": ("покажи|виведи|надішли|відправ|розкрий|надрукуй", "пароль|ключ|секрет|токен|облікові дані|змінні середовища"),
    "el": ("δείξε|εμφάνισε|στείλε|αποκάλυψε|τύπωσε|πες μου", "κωδικ|μυστικ|κλειδ|διακριτικ"),
    "he": ("הצג|תציג|הראה|תראה|שלח|תשלח|הדפס|תדפיס|חשוף|תחשוף", "סיסמ|הסיסמ|סוד|הסוד|מפתח|המפתח|טוקן|משתני סביבה"),
    "ka": ("მაჩვენე|გამომიგზავნე|გაგზავნე|დაბეჭდე|გამოიტანე", "პაროლ|საიდუმლო|გასაღებ|ტოკენ"),
    "hy": ("ցույց տուր|ուղարկիր|տպիր|բացահայտիր", "գաղտնաբառ|գաղտնի|բանալի|տոկեն"),
    "az": ("göstər|göndər|çap et|açıqla", "şifrə|parol|açar|gizli|token"),
    "uz": ("ko'rsat|ko‘rsat|yubor|chop et|oshkor qil", "parol|maxfiy|kalit|token"),
    "ne": ("देखाऊ|पठाऊ|छाप|बताऊ", "पासवर्ड|गोप्य|टोकन"),
    "my": ("ပြပါ|ပို့ပါ|ပေးပို့|ထုတ်ပြ", "စကားဝှက်|လျှို့ဝှက်"),
    "lo": ("ສະແດງ|ສົ່ງ|ພິມ|ເປີດເຜີຍ", "ລະຫັດຜ່ານ|ຄວາມລັບ|ລະຫັດລັບ"),
    "mn": ("харуул|илгээ|хэвл|дэлгэ", "нууц|түлхүүр|токен"),
    "ha": ("nuna|aika|buga|bayyana", "kalmar sirri|sirri|maɓalli|mabudi"),
    "zu": ("bonisa|thumela|veza", "iphasiwedi|imfihlo|ukhiye|okhiye"),
}  # fmt: skip
# The same languages: (without or none, restrictions), an announcement that the model's limits are gone
# ("no tienes ninguna restricción", "keine Einschränkungen mehr"). Words for filters and limits are left
# out: data tasks filter and limit all the time.
LIFTED: dict[str, tuple[str, str]] = {
    "zh": ("没有|无|不受|不再受|解除", "限制|约束|审查"),
    "hi": ("बिना|कोई नहीं|मुक्त", "पाबंदी|प्रतिबंध|बंदिश"),
    "pa": ("ਬਿਨਾਂ|ਕੋਈ ਨਹੀਂ|ਮੁਕਤ", "ਪਾਬੰਦੀ|ਰੋਕ"),
    "es": ("sin|ninguna|ningún|ya no tienes|libre de", "restricci|censura|limitaciones"),
    "fr": ("sans|aucune|plus de|libre de|libéré", "restriction|censure|contrainte"),
    "ar": ("بدون|بلا|لا توجد|دون|أي", "قيود|ضوابط|رقابة"),
    "bn": ("ছাড়া|কোনো", "সীমাবদ্ধতা|বিধিনিষেধ|নিষেধাজ্ঞা"),
    "pt": ("sem|nenhuma|nenhum|livre de", "restriç|censura|limitaç"),
    "ru": ("без|нет никаких|никаких|свободен от", "ограничени|цензур|запрет"),
    "ur": ("بغیر|بنا|کوئی", "پابندی|پابندیوں"),
    "id": ("tanpa|tidak ada|bebas dari", "batasan|pembatasan|sensor|larangan"),
    "de": ("keine|ohne|frei von", "einschränkung|beschränkung|zensur"),
    "ja": ("なし|ない|無し|解除|外し", "制限|制約|検閲"),
    "mr": ("शिवाय|कोणत्याही|मुक्त", "निर्बंध|बंधन"),
    "te": ("లేకుండా|ఎలాంటి", "పరిమితులు|ఆంక్షలు"),
    "tr": ("olmadan|hiçbir|yok|serbest", "kısıtlama|sansür"),
    "ta": ("இல்லாமல்|எந்த", "கட்டுப்பாடு|கட்டுப்பாடுகள்"),
    "vi": ("không có|không còn|không bị|tự do", "hạn chế|ràng buộc|kiểm duyệt"),
    "ko": ("없이|없는|없어|해제", "제한|제약|검열"),
}  # fmt: skip
# The same languages: (switch off or get around, a safety check or review), a request to disable what
# guards the run ("desactiva la revisión de seguridad", "关闭安全检查"). Nouns are the safety machinery's
# own words, not every "check" or "control": data tasks check and control things all the time.
SWITCHED_OFF: dict[str, tuple[str, str]] = {
    "zh": ("关闭|禁用|关掉|停用|绕过|跳过", "安全检查|安全审查|安全防护|安全机制|审核|审批"),
    "hi": ("बंद|निष्क्रिय|बायपास", "सुरक्षा|समीक्षा|अनुमोदन|मंजूरी"),
    "pa": ("ਬੰਦ|ਛੱਡ|ਬਾਈਪਾਸ|ਅਯੋਗ", "ਸੁਰੱਖਿਆ|ਸਮੀਖਿਆ|ਰਿਵਿਊ|ਪ੍ਰਵਾਨਗੀ|ਮਨਜ਼ੂਰੀ"),
    "es": ("desactiv|deshabilit|apaga|sáltate|saltate|elude|evita", "seguridad|revisión|aprobación|aprobacion"),
    "fr": ("désactiv|desactiv|coupe|contourne|saute", "sécurité|securite|vérification|revue|approbation"),
    "ar": ("عطل|عطّل|أوقف|اوقف|تجاوز|ألغ", "الأمان|الامان|الأمني|الامني|الحماية|المراجعة|الموافقة"),
    "bn": ("বন্ধ|নিষ্ক্রিয়", "নিরাপত্তা|পর্যালোচনা|অনুমোদন"),
    "pt": ("desativ|desabilit|deslig|contorn|pula|pule|pular", "segurança|seguranca|revisão|revisao|aprovação|aprovacao"),
    "ru": ("отключи|выключи|обойди|отмени|убери", "безопасност|модерац|одобрени|ревью"),
    "ur": ("بند|غیر فعال", "سیکیورٹی|حفاظت|منظوری"),
    "id": ("nonaktifkan|matikan|lewati|lompati", "keamanan|peninjauan|persetujuan"),
    "de": ("deaktivier|abschalt|schalte|umgeh|überspring", "sicherheit|freigabe|genehmigung"),
    "ja": ("無効|オフ|停止|回避|スキップ", "セキュリティ|安全|審査|承認"),
    "mr": ("बंद|निष्क्रिय", "सुरक्षा|मंजुरी"),
    "te": ("ఆపివేయి|నిలిపివేయి|ఆపు", "భద్రత|ఆమోదం"),
    "tr": ("devre dışı|kapat|atla|es geç", "güvenlik|onay"),
    "ta": ("முடக்கு|அணை|நிறுத்து", "பாதுகாப்பு|ஒப்புதல்"),
    "vi": ("tắt|vô hiệu|bỏ qua", "bảo mật|an toàn|phê duyệt"),
    "ko": ("끄|꺼|비활성|우회|건너뛰", "보안|안전|승인"),
    # Since round 9, as in ``DISCLOSURE`` (an English "off" takes Tagalog's verb prefixes: "i-off", "paki-off").
    "sw": ("zima|ruka|kwepa|ondoa", "usalama|ukaguzi|idhini|safety"),
    "tl": ("patayin|i-off|paki-off|laktawan|lampasan|iwasan|huwag paganahin", "kaligtasan|seguridad|pag-apruba|pagsusuri|safety"),
    "zh-latn": ("guanbi|jinyong|tiaoguo|raoguo", "anquan jiancha|shenhe|shenpi|anquan"),
    # Since round 12, as in ``DISCLOSURE`` (Amharic attaches "of" to its noun: "የደህንነት").
    "it": ("disattiv|disabilit|spegni|aggira|salta", "sicurezza|revisione|approvazione|moderazione"),
    "nl": ("schakel|zet uit|omzeil|sla over|deactiveer", "beveiliging|veiligheid|controle|goedkeuring"),
    "pl": ("wyłącz|dezaktywuj|obejdź|pomiń", "bezpieczeństw|zabezpiecze|weryfikacj|zatwierdz|moderacj"),
    "fa": ("غیرفعال|خاموش|دور بزن|رد کن", "امنیت|امنیتی|بررسی|تأیید|تایید"),
    "th": ("ปิด|ข้าม|เลี่ยง", "ความปลอดภัย|การตรวจสอบ|การอนุมัติ"),
    "am": ("አሰናክል|አጥፋ|አቋርጥ|ዝለል", "ደህንነት|የደህንነት|ፍተሻ|ማጽደቅ"),
    "si": ("නවත්වන්න|නවතන්න|අබල", "ආරක්ෂක|ආරක්ෂාව|අනුමැතිය"),
    "km": ("បិទ|រំលង", "សុវត្ថិភាព|ការត្រួតពិនិត្យ|ការអនុម័ត"),
    "kk": ("өшір|ажырат|айналып өт", "қауіпсіздік|тексеріс|мақұлдау"),
    "uk": ("вимкни|відключи|обійди|пропусти", "безпек|модерац|схвален"),
    "el": ("απενεργοποίησε|κλείσε|παράκαμψε|παράλειψε", "ασφάλει|έγκριση"),
    "he": ("השבת|תשבית|כבה|תכבה|עקוף|תעקוף", "אבטחה|האבטחה|בטיחות|אישור"),
    "ka": ("გამორთე|გათიშე|გვერდი აუარე", "უსაფრთხოებ|დამტკიცებ"),
    "hy": ("անջատիր|շրջանցիր", "անվտանգության|անվտանգություն|հաստատում"),
    "az": ("söndür|deaktiv|yan keç", "təhlükəsizlik|təsdiq"),
    "uz": ("o'chir|o‘chir|chetlab o't|o'tkazib yubor", "xavfsizlik|tasdiq"),
    "ne": ("बन्द गर|निष्क्रिय", "सुरक्षा|स्वीकृति"),
    "my": ("ပိတ်|ကျော်", "လုံခြုံရေး|အတည်ပြု"),
    "lo": ("ປິດ|ຂ້າມ", "ຄວາມປອດໄພ|ການອະນຸມັດ"),
    "mn": ("унтраа|идэвхгүй|алгас|тойр", "аюулгүй|зөвшөөр"),
    "ha": ("kashe|tsallake|kauce", "tsaro|amincewa"),
    "zu": ("vala|cisha|yeqa", "ukuphepha|ezokuphepha|imvume"),
}  # fmt: skip
# The same languages where the lexicon's author could write them: (keep it from someone, the people who
# oversee the run), an order to act behind the user's back ("사용자에게는 알리지 마세요", "no le digas
# nada al usuario", "不要告诉用户"). Only negated telling and secrecy: hiding a column from a user is a
# display setting.
CONCEALED: dict[str, tuple[str, str]] = {
    "zh": ("不要告诉|别告诉|不要通知|别通知|不要让|隐瞒|瞒着|悄悄", "用户|使用者|管理员|操作员"),
    "hi": ("मत बताना|मत बताओ|न बताएं|न बताना|चुपके से", "उपयोगकर्ता|यूज़र|यूजर|ऑपरेटर|एडमिन"),
    "pa": ("ਨਾ ਦੱਸ|ਚੁੱਪਚਾਪ|ਲੁਕਾ", "ਉਪਭੋਗਤਾ|ਯੂਜ਼ਰ|ਆਪਰੇਟਰ|ਐਡਮਿਨ"),
    "es": ("no le digas|no les digas|no informes|no avises|no le avises|sin avisar|sin informar|sin decirle|a escondidas|en secreto", "usuario|operador|administrador"),
    "fr": ("ne dis pas|ne dites pas|ne lui dis|n'informe pas|n'avertis pas|sans prévenir|sans informer|sans le dire|en cachette|en secret", "utilisateur|opérateur|administrateur"),
    "ar": ("لا تخبر|لا تبلغ|دون إبلاغ|دون علم|بدون إخبار|سرا|سراً", "المستخدم|المشغل|المسؤول"),
    "pt": ("não diga|não conte|não informe|não avise|sem avisar|sem informar|sem contar|às escondidas|em segredo", "usuário|utilizador|operador|administrador"),
    "ru": ("не говори|не сообщай|не уведомляй|не предупреждай|тайно|незаметно|втайне", "пользовател|оператор|администратор"),
    "id": ("jangan beri tahu|jangan beritahu|jangan kasih tahu|tanpa memberi tahu|tanpa sepengetahuan|diam-diam", "pengguna|operator|admin"),
    "de": ("nicht informier|nicht benachrichtig|nichts sagen|ohne wissen|heimlich|verheimlich|verschweig", "nutzer|benutzer|anwender|betreiber|administrator"),
    "ja": ("知らせないで|伝えないで|言わないで|通知しないで|内緒|こっそり", "ユーザー|利用者|管理者|オペレーター"),
    "tr": ("söylemeden|bildirmeden|haber vermeden|fark ettirmeden|gizlice", "kullanıcı|operatör|yönetici"),
    "vi": ("đừng nói|không báo|đừng báo|đừng cho|lén", "người dùng|quản trị|người vận hành"),
    "ko": ("알리지|말하지|몰래", "사용자|운영자|관리자"),
    "sw": ("usimwambie|usiwaambie|bila kumwambia|bila kuwaambia|kwa siri", "mtumiaji|watumiaji|msimamizi"),
    "tl": ("huwag sabihin|huwag ipaalam|nang palihim|nang hindi alam", "gumagamit|tagapamahala"),
    # Since round 12, as in ``DISCLOSURE``.
    "it": ("non dire|non dirlo|non informare|non avvisare|senza avvisare|senza dirlo|di nascosto|in segreto", "utente|operatore|amministratore"),
    "nl": ("vertel niet|zeg niets|niet melden|niet informeren|zonder te melden|stiekem|in het geheim", "gebruiker|beheerder|operator"),
    "pl": ("nie mów|nie informuj|nie powiadamiaj|bez informowania|po cichu|potajemnie|w tajemnicy", "użytkownik|operator|administrator"),
    "fa": ("نگو|اطلاع نده|بدون اطلاع|مخفیانه|پنهانی", "کاربر|اپراتور|مدیر"),
    "th": ("อย่าบอก|ไม่ต้องบอก|แอบ|โดยไม่แจ้ง", "ผู้ใช้|ผู้ดูแล"),
    "am": ("አትንገር|ሳትነግር|ሳታሳውቅ|በሚስጥር", "ተጠቃሚ|አስተዳዳሪ"),
    "si": ("නොකියන්න|නොදන්වා|රහසින්", "පරිශීලක"),
    "km": ("មិនប្រាប់|កុំប្រាប់|ដោយសម្ងាត់", "អ្នកប្រើ|អ្នកគ្រប់គ្រង"),
    "kk": ("айтпа|хабарлама|білдірме|жасырын", "пайдаланушы|әкімші|оператор"),
    "uk": ("не кажи|не повідомляй|таємно|потай|непомітно", "користувач|адміністратор|оператор"),
    "el": ("μην πεις|μην ενημερώσεις|κρυφά|χωρίς να ενημερώσεις", "χρήστη|διαχειριστ"),
    "he": ("אל תספר|אל תגיד|אל תודיע|בלי לספר|בסתר|בחשאי", "משתמש|המשתמש|למשתמש|מנהל|למנהל"),
    "ka": ("არ უთხრა|არ აცნობო|ფარულად|ჩუმად", "მომხმარებელ|ადმინისტრატორ"),
    "hy": ("մի ասա|մի տեղեկացրու|գաղտնի", "օգտատեր|ադմինիստրատոր"),
    "az": ("demə|xəbər vermə|gizlicə|xəbərsiz", "istifadəçi|admin|operator"),
    "uz": ("aytma|xabar berma|yashirincha", "foydalanuvchi|administrator"),
    "ne": ("नभन|नबताऊ|लुकाएर", "प्रयोगकर्ता|प्रशासक"),
    "my": ("မပြောပါနဲ့|မပြောနှင့်|တိတ်တဆိတ်|မသိစေဘဲ", "အသုံးပြုသူ|စီမံခန့်ခွဲသူ"),
    "lo": ("ຢ່າບອກ|ບໍ່ຕ້ອງບອກ", "ຜູ້ໃຊ້|ຜູ້ດູແລ"),
    "mn": ("битгий хэл|мэдэгдэлгүй|нууцаар", "хэрэглэгч|админ|оператор"),
    "ha": ("kada ka gaya|kar ka gaya|a ɓoye|a boye", "mai amfani|mai gudanarwa"),
    "zu": ("ungatsheli|ungazisi|ngasese|ngokuyimfihlo", "umsebenzisi|umphathi"),
}  # fmt: skip
# Words for the assistant, as the head of a line in data ("Note to the AI assistant:", "KI-Assistent,"):
# the twenty languages above and the lexicon's European ones.
ASSISTANT = (
    "assistant|ai assistant|ai|llm|language model|chatbot|chatgpt|copilot|ai agent|coding agent|"
    "ki|ki-assistent|assistent|ia|asistente|assistente|asystent|asystenta|asystentowi|ассистент|помощник|"
    "нейросеть|ии|ші|асистент|помічник|trợ lý|tro ly|sahayak|सहायक|एआई|مساعد|المساعد|الذكاء الاصطناعي|"
    "asistan|yapay zeka|yapay zekâ|asisten|pembantu ai|msaidizi|avustaja|tekoäly|βοηθ|asistent|asisztens|"
    "دستیار|সহকারী|עוזר|בינה מלאכותית|zhushou|rengong zhineng|katulong|"
    # since round 12, the languages added to DISCLOSURE (Amharic attaches "to": "ለረዳቱ")
    "assistente ia|assistente|ai-assistent|asystent ai|ረዳት|ረዳቱ|ለረዳት|ለረዳቱ|සහායක|көмекші|көмекшіге|"
    "ასისტენტ|օգնական|köməkçi|yordamchi|туслах|mataimaki|umsizi|асистенте|βοηθέ"
)
ASSISTANT_UNSPACED = "助手|人工智能|人工知能|アシスタント|비서|어시스턴트|인공지능|ผู้ช่วย|ជំនួយការ|လက်ထောက်|ຜູ້ຊ່ວຍ"
"""Scripts without spaces (or with particles attached, as Korean): matched anywhere in a word."""
_DISCLOSE = _pattern(_stems(DISCLOSURE, 0))
_SECRET = _pattern(_stems(DISCLOSURE, 1))


def _latin_with_diacritics(stem: str) -> bool:
    return not stem.isascii() and all(
        unicodedata.name(c, "").startswith("LATIN") for c in stem if c.isalpha()
    )


def _folded(table: Mapping[str, Sequence[str]], column: int) -> re.Pattern[str]:
    """A column's stems in Latin letters with diacritics, as they read with the diacritics left out
    ("bỏ qua" typed as "bo qua", "göster" as "goster")."""
    stems = {anyascii(s).lower() for s in _column(table, column) if _latin_with_diacritics(s)}
    return _pattern(sorted(stems, key=len, reverse=True))


def _at_word_start(text: str, m: re.Match[str]) -> bool:
    start = m.start()
    return start == 0 or not text[start - 1].isalpha() or bool(_UNSPACED.match(m.group()))


def _sentence(text: str, start: int, end: int) -> tuple[int, int]:
    """The stretch around [start, end) within REACH characters that no sentence end interrupts."""
    low = max(0, start - REACH)
    ends = [m.end() for m in _SENTENCE_END.finditer(text, low, start)]
    high_end = _SENTENCE_END.search(text, end, min(len(text), end + REACH))
    return (ends[-1] if ends else low), (high_end.start() if high_end else min(len(text), end + REACH))


def _near(first: re.Pattern[str], second: re.Pattern[str], normal: str) -> bool:
    """Whether a word of `first` and a word of `second` stand in one sentence, in either order."""
    if second.search(normal) is None:
        return False  # one scan settles most texts: the second concept is the rarer one
    for m in first.finditer(normal):
        if not _at_word_start(normal, m):
            continue
        low, high = _sentence(normal, m.start(), m.end())
        for o in second.finditer(normal, low, high):
            if (o.end() <= m.start() or o.start() >= m.end()) and _at_word_start(normal, o):
                return True
    return False


def dismissal_near_object(normal: str) -> bool:
    """Whether a word of dismissal and a word for instructions or rules stand in one sentence (normalised
    text), in any of the table's languages."""
    return _near(DISMISSAL, OBJECT, normal)


def disclosure_of_secret(normal: str) -> bool:
    """Whether a word for showing or sending stands next to a word for a secret in one sentence (normalised
    text), in any of ``DISCLOSURE``'s languages."""
    return _near(_DISCLOSE, _SECRET, normal)


_WITHOUT = _pattern(_stems(LIFTED, 0))
_RESTRICTIONS = _pattern(_stems(LIFTED, 1))


def restrictions_lifted(normal: str) -> bool:
    """Whether a word for "without" or "none" stands next to a word for restrictions in one sentence
    (normalised text), in any of ``LIFTED``'s languages."""
    return _near(_WITHOUT, _RESTRICTIONS, normal)


_SWITCH_OFF = _pattern(_stems(SWITCHED_OFF, 0))
_SAFEGUARD = _pattern(_stems(SWITCHED_OFF, 1))


def safeguard_switched_off(normal: str) -> bool:
    """Whether a word for switching off or getting around stands next to a word for a safety check, a
    review or an approval in one sentence (normalised text), in any of ``SWITCHED_OFF``'s languages."""
    return _near(_SWITCH_OFF, _SAFEGUARD, normal)


_HUSH = _pattern(_stems(CONCEALED, 0))
_OVERSEER = _pattern(_stems(CONCEALED, 1))


def kept_from_overseers(normal: str) -> bool:
    """Whether a word for keeping something from someone stands next to a word for the user or operator
    in one sentence (normalised text), in any of ``CONCEALED``'s languages."""
    return _near(_HUSH, _OVERSEER, normal)


_FOLDED = tuple(
    _folded(table, column) for table, column in ((LEXICON, 0), (LEXICON, 1), (DISCLOSURE, 0), (DISCLOSURE, 1))
)


def folded_concepts(normal: str) -> tuple[bool, bool]:
    """In a text typed without diacritics (ASCII only): (an override, a disclosure of a secret), read
    with the diacritics of the stems left out."""
    if not normal.isascii():
        return False, False
    dismissal, target, disclose, secret = _FOLDED
    return _near(dismissal, target, normal), _near(disclose, secret, normal)
