"""Static tables the demo generator draws from: catalogue, variants, people's names."""

# Variant kinds: (Chinese label, English label, SKU suffix).
COLORS = [
    ("黑色", "Black", "BK"), ("白色", "White", "WH"), ("灰色", "Grey", "GY"), ("藏青色", "Navy", "NV"),
    ("粉色", "Pink", "PK"), ("墨绿色", "Forest Green", "GN"), ("卡其色", "Khaki", "KH"), ("酒红色", "Burgundy", "RD"),
]
SIZES = [("S", "S"), ("M", "M"), ("L", "L"), ("XL", "XL"), ("XXL", "XXL")]
SIZE_COLORS = COLORS[:3]
PACKS = [("单个装", "1 Pack", "1P"), ("2件装", "2 Pack", "2P"), ("3件装", "3 Pack", "3P"), ("5件装", "5 Pack", "5P")]
MODELS = [("标准版", "Standard", "STD"), ("Pro版", "Pro", "PRO"), ("Max版", "Max", "MAX"), ("Mini版", "Mini", "MINI")]
PHONES = [
    ("iPhone 15", "IP15"), ("iPhone 15 Pro", "IP15P"), ("iPhone 15 Pro Max", "IP15PM"), ("iPhone 16", "IP16"),
    ("iPhone 16 Pro", "IP16P"), ("Galaxy S24", "GS24"),
]


def variants(kind: str) -> list[tuple[str, str, str]]:
    """(Chinese, English, SKU suffix) of every variant of a kind."""
    if kind == "color":
        return COLORS
    if kind == "size":
        return [
            (f"{c_zh} {s}", f"{c_en} {s_en}", f"{c_code}-{s_en}")
            for s, s_en in SIZES
            for c_zh, c_en, c_code in SIZE_COLORS
        ]
    if kind == "pack":
        return PACKS
    if kind == "model":
        return MODELS
    if kind == "phone":
        return [
            (f"{p} {c_zh}", f"{p} {c_en}", f"{p_code}-{c_code}")
            for p, p_code in PHONES
            for c_zh, c_en, c_code in COLORS[:3]
        ]
    raise ValueError(kind)


# (code, Chinese, English, brand, [(sub Chinese, sub English, [(item Chinese, item English, cost CNY
#  low, high, weight kg, variant kind), …]), …])
CATALOGUE = [
    ("3C", "3C数码", "Electronics", "Voltix", [
        ("手机配件", "Phone Accessories", [
            ("磁吸手机壳", "Magnetic Phone Case", 6, 12, 0.05, "phone"),
            ("钢化玻璃膜", "Tempered Glass Screen Protector", 2, 5, 0.03, "phone"),
            ("磁吸无线充电器", "Magnetic Wireless Charger", 28, 45, 0.12, "color"),
            ("氮化镓快充充电头", "65W GaN Fast Charger", 35, 55, 0.15, "model"),
            ("编织快充数据线", "Braided USB-C Cable", 5, 9, 0.05, "pack"),
            ("桌面手机支架", "Adjustable Phone Stand", 8, 15, 0.2, "color"),
        ]),
        ("影音娱乐", "Audio", [
            ("无线蓝牙耳机", "Wireless Bluetooth Earbuds", 45, 80, 0.08, "color"),
            ("头戴式降噪耳机", "Noise Cancelling Headphones", 120, 180, 0.3, "color"),
            ("便携蓝牙音箱", "Portable Bluetooth Speaker", 60, 95, 0.45, "color"),
        ]),
        ("电脑周边", "Computer Accessories", [
            ("机械键盘", "Mechanical Keyboard", 110, 160, 0.9, "model"),
            ("静音无线鼠标", "Silent Wireless Mouse", 18, 30, 0.09, "color"),
            ("七合一扩展坞", "7-in-1 USB-C Hub", 45, 70, 0.1, "model"),
            ("20000mAh 充电宝", "20000mAh Power Bank", 55, 80, 0.4, "color"),
        ]),
    ]),
    ("HM", "家居", "Home & Kitchen", "Homelia", [
        ("厨房用品", "Kitchen", [
            ("硅胶厨具套装", "Silicone Kitchen Utensil Set", 25, 40, 0.6, "color"),
            ("不锈钢保温杯", "Insulated Stainless Steel Tumbler", 22, 35, 0.35, "color"),
            ("手摇咖啡磨豆机", "Manual Coffee Grinder", 40, 60, 0.5, "model"),
            ("玻璃保鲜盒", "Glass Food Storage Containers", 30, 50, 1.2, "pack"),
        ]),
        ("收纳整理", "Storage", [
            ("布艺收纳箱", "Fabric Storage Bins", 18, 28, 0.5, "color"),
            ("真空压缩袋", "Vacuum Storage Bags", 15, 25, 0.4, "pack"),
            ("旋转化妆品收纳架", "Rotating Makeup Organizer", 20, 32, 0.45, "color"),
        ]),
        ("家居装饰", "Home Decor", [
            ("智能LED灯带", "Smart LED Strip Lights", 18, 30, 0.25, "model"),
            ("香薰加湿器", "Essential Oil Diffuser", 35, 55, 0.5, "color"),
            ("北欧风抱枕套", "Nordic Throw Pillow Covers", 8, 14, 0.2, "color"),
        ]),
    ]),
    ("AP", "服饰", "Apparel", "Urbanfit", [
        ("女装", "Women", [
            ("高腰瑜伽裤", "Women's High Waist Yoga Leggings", 22, 35, 0.25, "size"),
            ("女士针织开衫", "Women's Knit Cardigan", 45, 70, 0.45, "size"),
            ("碎花中长连衣裙", "Floral Midi Dress", 40, 65, 0.3, "size"),
        ]),
        ("男装", "Men", [
            ("男士速干T恤", "Men's Quick-Dry T-Shirt", 18, 28, 0.2, "size"),
            ("男士工装短裤", "Men's Cargo Shorts", 30, 45, 0.35, "size"),
            ("男士连帽卫衣", "Men's Pullover Hoodie", 50, 75, 0.6, "size"),
        ]),
        ("服饰配件", "Accessories", [
            ("纯棉棒球帽", "Cotton Baseball Cap", 10, 16, 0.1, "color"),
            ("防蓝光眼镜", "Blue Light Blocking Glasses", 12, 20, 0.05, "color"),
            ("帆布托特包", "Canvas Tote Bag", 15, 24, 0.25, "color"),
        ]),
    ]),
    ("OD", "户外", "Outdoors", "Trekora", [
        ("露营装备", "Camping", [
            ("超轻折叠露营椅", "Ultralight Folding Camping Chair", 65, 95, 1.1, "color"),
            ("充电式露营灯", "Rechargeable Camping Lantern", 30, 48, 0.35, "model"),
            ("双人防雨帐篷", "2-Person Waterproof Tent", 150, 220, 2.4, "color"),
        ]),
        ("骑行装备", "Cycling", [
            ("智能自行车尾灯", "Smart Bike Tail Light", 12, 20, 0.05, "model"),
            ("半指骑行手套", "Half Finger Cycling Gloves", 15, 25, 0.1, "size"),
            ("骑行运动水壶", "Cycling Water Bottle", 8, 14, 0.12, "color"),
        ]),
        ("运动健身", "Fitness", [
            ("弹力带套装", "Resistance Bands Set", 15, 25, 0.3, "pack"),
            ("负重跳绳", "Weighted Jump Rope", 10, 18, 0.3, "color"),
            ("TPE瑜伽垫", "TPE Yoga Mat", 35, 55, 1.0, "color"),
        ]),
    ]),
    ("PT", "宠物", "Pet Supplies", "Pawlio", [
        ("猫咪用品", "Cats", [
            ("瓦楞纸猫抓板", "Cardboard Cat Scratcher", 12, 20, 0.8, "model"),
            ("猫咪自动饮水机", "Cat Water Fountain", 45, 70, 0.9, "color"),
            ("羽毛逗猫棒", "Feather Cat Teaser Wand", 5, 9, 0.08, "pack"),
        ]),
        ("狗狗用品", "Dogs", [
            ("自动伸缩牵引绳", "Retractable Dog Leash", 25, 38, 0.35, "color"),
            ("防噎慢食碗", "Slow Feeder Dog Bowl", 12, 20, 0.3, "color"),
            ("宠物除毛梳", "Pet Deshedding Brush", 10, 16, 0.15, "color"),
            ("可拆洗宠物窝", "Washable Pet Bed", 50, 80, 1.5, "size"),
        ]),
    ]),
    ("BT", "美妆个护", "Beauty & Personal Care", "Lumora", [
        ("个护电器", "Personal Care Appliances", [
            ("声波电动牙刷", "Sonic Electric Toothbrush", 40, 65, 0.2, "color"),
            ("负离子吹风机", "Ionic Hair Dryer", 70, 110, 0.6, "color"),
            ("UV LED 美甲灯", "UV LED Nail Lamp", 30, 45, 0.4, "model"),
        ]),
        ("美妆工具", "Makeup Tools", [
            ("化妆刷套装", "Makeup Brush Set", 15, 28, 0.2, "color"),
            ("美妆蛋", "Makeup Sponge Blender", 3, 6, 0.03, "pack"),
        ]),
    ]),
    ("BB", "母婴", "Baby", "Kiddora", [
        ("喂养用品", "Feeding", [
            ("婴儿硅胶餐具套装", "Baby Silicone Feeding Set", 18, 28, 0.3, "color"),
            ("婴儿安抚奶嘴", "Baby Pacifier", 4, 7, 0.03, "pack"),
        ]),
        ("益智玩具", "Toys", [
            ("磁力片积木", "Magnetic Building Tiles", 60, 95, 1.2, "model"),
            ("儿童画板", "Kids Drawing Tablet", 15, 24, 0.2, "color"),
        ]),
    ]),
    ("AU", "汽车用品", "Automotive", "Drivona", [
        ("车载电子", "Car Electronics", [
            ("出风口车载支架", "Car Vent Phone Mount", 15, 25, 0.15, "model"),
            ("车载无线吸尘器", "Handheld Car Vacuum", 45, 70, 0.8, "color"),
            ("车载快充充电器", "Car Charger", 12, 20, 0.05, "model"),
        ]),
        ("车内收纳", "Car Organizers", [
            ("后备箱收纳箱", "Car Trunk Organizer", 30, 45, 1.0, "color"),
            ("座椅缝隙收纳盒", "Car Seat Gap Filler", 6, 10, 0.1, "pack"),
        ]),
    ]),
]

# Buyers: (first names, last names) per language group, and which group each country uses.
PEOPLE = {
    "en": (
        ["James", "Olivia", "Michael", "Emma", "David", "Sophia", "Daniel", "Ava", "Ethan", "Mia", "Noah", "Grace"],
        ["Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor", "Clark", "Lewis"],
    ),
    "de": (
        ["Lukas", "Anna", "Leon", "Lena", "Felix", "Marie", "Jonas", "Laura", "Paul", "Sophie", "Maximilian"],
        ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann", "Koch"],
    ),
    "fr": (
        ["Louis", "Camille", "Hugo", "Chloé", "Lucas", "Léa", "Gabriel", "Manon", "Jules", "Inès"],
        ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau"],
    ),
    "it": (
        ["Marco", "Giulia", "Luca", "Chiara", "Matteo", "Sofia", "Andrea", "Francesca", "Davide"],
        ["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino"],
    ),
    "es": (
        ["Alejandro", "Lucía", "Pablo", "María", "Javier", "Carmen", "Diego", "Paula", "Sergio"],
        ["García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez", "Gómez"],
    ),
    "nl": (
        ["Daan", "Emma", "Sem", "Julia", "Lars", "Sanne", "Thijs", "Fleur"],
        ["de Jong", "Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit", "Meijer"],
    ),
    "ja": (
        ["健太", "美咲", "翔太", "陽菜", "大輔", "結衣", "拓也", "さくら", "直樹", "愛"],
        ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤"],
    ),
    "sg": (
        ["Wei Ming", "Hui Min", "Jun Jie", "Xin Yi", "Muhammad", "Nurul", "Arjun", "Priya", "Zhi Hao"],
        ["Tan", "Lim", "Lee", "Ng", "Ong", "Wong", "Goh", "Rahman", "Kumar"],
    ),
    "pt": (
        ["João", "Ana", "Pedro", "Beatriz", "Lucas", "Mariana", "Gabriel", "Larissa"],
        ["Silva", "Santos", "Oliveira", "Souza", "Lima", "Pereira", "Costa", "Ferreira"],
    ),
    "pl": (
        ["Jakub", "Zuzanna", "Kacper", "Julia", "Szymon", "Maja", "Filip", "Hanna"],
        ["Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kamiński", "Lewandowski", "Zieliński"],
    ),
    "ko": (
        ["민준", "서연", "도윤", "지우", "예준", "하은", "시우", "수아"],
        ["김", "이", "박", "최", "정", "강", "조", "윤"],
    ),
}
COUNTRY_LANGUAGE = {
    "US": "en", "CA": "en", "GB": "en", "AU": "en", "NZ": "en", "DE": "de", "AT": "de", "FR": "fr", "IT": "it",
    "ES": "es", "NL": "nl", "JP": "ja", "SG": "sg", "BR": "pt", "PL": "pl", "KR": "ko",
}
# Reserved example domains only: demo buyers must never be real, mailable addresses.
EMAIL_DOMAINS = ["example.com", "example.net", "example.org"]
