/// The accelerator models a fleet may use: the built-in ones from vendor datasheets plus user-defined ones.
public struct AcceleratorCatalog: Sendable {
    /// All models, built-in first (in the order below), then user-defined in declaration order.
    public let models: [AcceleratorModel]
    private let index: [String: Int]

    /// Makes a catalog; a later model with an id already present replaces nothing (the decoder rejects
    /// such duplicates before they get here).
    public init(_ models: [AcceleratorModel]) {
        var index: [String: Int] = [:]
        var kept: [AcceleratorModel] = []
        for model in models where index[model.id] == nil {
            index[model.id] = kept.count
            kept.append(model)
        }
        self.models = kept
        self.index = index
    }

    /// The model with this id.
    ///
    /// - Complexity: O(1).
    public subscript(id: String) -> AcceleratorModel? {
        index[id].map { models[$0] }
    }

    /// The built-in catalog extended with user-defined models.
    public static func builtIn(plus user: [AcceleratorModel] = []) -> AcceleratorCatalog {
        AcceleratorCatalog(builtInModels + user)
    }

    private static let idleNote = "idle power is an estimate: datasheets give no idle figure"

    /// The US Export Administration Regulations' listing for advanced-computing ICs (BIS interim final rules of
    /// 17 October 2023 and 2 December 2024): parts whose total processing performance (TPP = 2 × dense MAC
    /// TOPS × bit length) reaches 4,800 are ECCN 3A090.a, and the boards and systems holding them 4A090.
    static let ear3A090 = ExportControl.controlled(jurisdiction: "US", classification: "EAR ECCN 3A090.a")

    /// Built-in models. Dense BF16 (FP16 where the part has no BF16), board power, memory and bandwidth from
    /// vendor datasheets (NVIDIA headlines sparse figures, twice these); idle power estimated.
    ///
    /// Export control, from the BIS rules above: A100 (TPP 4,992), H100/H200 (15,824), L40S (FP8 5,864),
    /// MI250X (6,128), MI300X (20,912), Gaudi 2 (6,912) and Gaudi 3 (29,360) reach the 3A090.a threshold;
    /// V100 (2,000), T4 (1,040), A10 (2,000), L4 (FP8 1,940) and the CPU socket do not. The Ascend 910B is
    /// not a US-origin item: BIS's guidance of 13 May 2025 warns that *using* it may breach the EAR (General
    /// Prohibition 10), a risk to its user rather than a control on its supply, so it is listed as `none`;
    /// a fleet that sees it otherwise says so with `sovereign assess --export-control`.
    public static let builtInModels: [AcceleratorModel] = [
        model("nvidia-v100-sxm2-16gb", "NVIDIA", "V100 SXM2 16GB", 16, 125, 0.9, 300, 40, "US", "TW", 2017, fp16: true),
        model("nvidia-v100-sxm2-32gb", "NVIDIA", "V100 SXM2 32GB", 32, 125, 0.9, 300, 40, "US", "TW", 2018, fp16: true),
        model("nvidia-t4", "NVIDIA", "T4", 16, 65, 0.32, 70, 10, "US", "TW", 2018, fp16: true),
        model("nvidia-a10", "NVIDIA", "A10", 24, 125, 0.6, 150, 20, "US", "KR", 2021),
        model("nvidia-l4", "NVIDIA", "L4", 24, 121, 0.3, 72, 16, "US", "TW", 2023),
        model("nvidia-l40s", "NVIDIA", "L40S", 48, 362, 0.864, 350, 35, "US", "TW", 2023, controlled: true),
        model(
            "nvidia-a100-40gb",
            "NVIDIA",
            "A100 40GB SXM",
            40,
            312,
            1.555,
            400,
            50,
            "US",
            "TW",
            2020,
            controlled: true
        ),
        model(
            "nvidia-a100-80gb",
            "NVIDIA",
            "A100 80GB SXM",
            80,
            312,
            2.039,
            400,
            50,
            "US",
            "TW",
            2020,
            controlled: true
        ),
        model("nvidia-h100-sxm", "NVIDIA", "H100 SXM 80GB", 80, 989, 3.35, 700, 70, "US", "TW", 2022, controlled: true),
        model(
            "nvidia-h200-sxm",
            "NVIDIA",
            "H200 SXM 141GB",
            141,
            989,
            4.8,
            700,
            75,
            "US",
            "TW",
            2024,
            controlled: true
        ),
        model("amd-mi250x", "AMD", "Instinct MI250X", 128, 383, 3.2, 560, 90, "US", "TW", 2021, controlled: true),
        model("amd-mi300x", "AMD", "Instinct MI300X", 192, 1307, 5.3, 750, 140, "US", "TW", 2023, controlled: true),
        model("intel-gaudi2", "Intel", "Gaudi 2", 96, 432, 2.46, 600, 100, "US", "TW", 2022, controlled: true),
        model("intel-gaudi3", "Intel", "Gaudi 3", 128, 1835, 3.67, 900, 150, "US", "TW", 2024, controlled: true),
        AcceleratorModel(
            id: "huawei-ascend-910b",
            vendor: "Huawei",
            displayName: "Ascend 910B",
            memory: .gigabytes(64),
            tflops: 320,
            bandwidth: Bandwidth(baseValue: 1.6e12),
            power: .watts(400),
            idlePower: .watts(80),
            designedIn: "CN",
            fabricatedIn: "CN",
            year: 2023,
            provenance: .secondary,
            note:
                "secondary sources only: FP16 throughput, power, bandwidth and fab are reported, not datasheet figures",
            exportControl: ExportControl.unlisted
        ),
        AcceleratorModel(
            id: "cpu-x86-64",
            vendor: "Generic",
            displayName: "x86-64 server socket (96 cores, DDR5)",
            memory: .gigabytes(384),
            tflops: 5,
            bandwidth: Bandwidth(baseValue: 4.6e11),
            power: .watts(360),
            idlePower: .watts(100),
            designedIn: "US",
            fabricatedIn: "TW",
            year: 2022,
            provenance: .secondary,
            note: "order-of-magnitude figures for one 96-core socket with AVX-512 BF16; for CPU-only fallback",
            exportControl: ExportControl.unlisted
        ),
    ]

    private static func model(
        _ id: String,
        _ vendor: String,
        _ name: String,
        _ memoryGB: Double,
        _ tflops: Double,
        _ bandwidthTBps: Double,
        _ watts: Double,
        _ idleWatts: Double,
        _ designedIn: String,
        _ fabricatedIn: String,
        _ year: Int,
        fp16: Bool = false,
        controlled: Bool = false
    ) -> AcceleratorModel {
        AcceleratorModel(
            id: id,
            vendor: vendor,
            displayName: name,
            memory: .gigabytes(memoryGB),
            tflops: tflops,
            bandwidth: Bandwidth(baseValue: bandwidthTBps * 1e12),
            power: .watts(watts),
            idlePower: .watts(idleWatts),
            designedIn: designedIn,
            fabricatedIn: fabricatedIn,
            year: year,
            provenance: .datasheet,
            note: fp16 ? "FP16 tensor throughput (no BF16); \(idleNote)" : idleNote,
            exportControl: controlled ? ear3A090 : ExportControl.unlisted
        )
    }
}
