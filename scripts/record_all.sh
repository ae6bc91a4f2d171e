#!/usr/bin/env bash
# Re-record every committed cassette from the local models (llama.cpp serving SmolLM2-135M-Instruct
# with its own chat template for classification and the judge, and base Gemma 3 270M continuing
# the few-shot answer prompts for the answers, behind one endpoint: devservices/llm_router.py;
# chosen by scripts/measure_models.py; see README), as the committed ones were: the golden
# suites, the regression experiments (tests/evals/experiments, each with its variant of the
# agent) and examples/shopbot. Never edit a recording by hand.
# Takes long on 2 busy shared cores (the suites and each experiment: tens of minutes);
# read a few cassettes afterwards (evals check-cassettes checks every reply), then
# update thresholds and baselines from what was measured.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
record() { .venv/bin/evals record "$@" || status=1; }  # go on; say so at the end
E=tests/evals/experiments
record  # every golden suite under tests/
record --tests tests/evals/test_goldens.py --cassettes "$E/rerecorded/cassettes"
SUPPORTBOT_FAQ_DATA="$E/broken-retrieval/faq.json" \
  record --tests tests/evals/test_goldens.py --cassettes "$E/broken-retrieval/cassettes"
SUPPORTBOT_ORDERS_DATA="$E/broken-order-tool/orders.json" \
  record --tests tests/evals/test_goldens.py --cassettes "$E/broken-order-tool/cassettes"
SUPPORTBOT_PROMPTS_DIR="$E/broken-classify-prompt/prompts" \
  record --tests tests/evals/test_goldens.py --cassettes "$E/broken-classify-prompt/cassettes"
SUPPORTBOT_PROMPTS_DIR="$E/bloated-faq-prompt/prompts" \
  record --tests tests/evals/test_goldens.py --cassettes "$E/bloated-faq-prompt/cassettes"
SUPPORTBOT_PROMPTS_DIR="$E/gutted-classify-prompt/prompts" \
  record --tests tests/evals/test_goldens.py --cassettes "$E/gutted-classify-prompt/cassettes"
# a small suite of its own: the unchanged agent (its baseline), then the tool failing every call
D="$E/tool-always-fails"
record --tests tests/evals/test_goldens.py --goldens "$D/goldens.yaml" \
  --cassettes "$D/baseline-cassettes"
SUPPORTBOT_ORDERS_DATA="$D/orders.json" record --tests tests/evals/test_goldens.py \
  --goldens "$D/goldens.yaml" --cassettes "$D/cassettes"
(cd examples/shopbot && ../../.venv/bin/evals record) || status=1
.venv/bin/evals check-cassettes || status=1
exit "$status"
