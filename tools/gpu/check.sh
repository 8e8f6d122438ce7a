#!/usr/bin/env bash
# Runs on a machine with an NVIDIA GPU and no .NET, from the repository root, after tools/gpu/pack.sh packed
# .gpu/opteq-linux-x64.tar.xz here (docs/gpu.md). Steps, each with its own time limit so that one that hangs costs only
# its own share (STEPS picks a subset of "tests conv gemm gram step train"):
#   tests  the ILGPU kernel fixtures on cuda:0, the convolution families first;
#   conv   opteq bench conv on cuda:0 beside PyTorch on the same GPU;
#   gemm   opteq bench gemm on cuda:0 beside cuBLAS;   gram  opteq bench gram on cuda:0;
#   step   one conv-opteq training step;               train the default MNIST training and one epoch of conv-opteq.
# Logs go to $OUT (default .gpu/out).
set -uo pipefail
out=${OUT:-.gpu/out}
steps=${STEPS:-tests conv gemm gram step train}
mkdir -p "$out"
tar -C /tmp -xJf .gpu/opteq-linux-x64.tar.xz
bin=/tmp/publish
export DOTNET_CLI_TELEMETRY_OPTOUT=1

# ILGPU.Algorithms 1.5.3 loads cuBLAS as libcublas.so.12 (or .11, .10); a CUDA 13 machine has libcublas.so.13, whose
# cublas*_v2 entry points are the same. Offer it under the older name, in a folder of our own.
cublas=$(ls /usr/local/cuda/lib64/libcublas.so.1[0-9]* 2>/dev/null | head -1)
[ -z "$cublas" ] && cublas=$(python3 -c 'import nvidia.cublas, os; d = os.path.join(nvidia.cublas.__path__[0], "lib"); print(os.path.join(d, sorted(f for f in os.listdir(d) if f.startswith("libcublas.so"))[0]))' 2>/dev/null)
if [ -n "$cublas" ]; then
  mkdir -p /tmp/cublas && ln -sf "$cublas" /tmp/cublas/libcublas.so.12
  export LD_LIBRARY_PATH=/tmp/cublas:$(dirname "$cublas")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi

{ nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv; echo "cublas: ${cublas:-none}"; } 2>&1 | tee "$out/machine.txt"
timeout 60 "$bin/opteq" devices 2>&1 | tee -a "$out/machine.txt"

conv_fixtures='(Conv2dKernel|Pool2dKernel|CircularConvSpectrumKernel|MultiTierOperatorBackend)Tests'
case " $steps " in *" tests "*)
  timeout "${TESTS_CONV_S:-100}" "$bin/OptEq.Tests" --where "${conv_fixtures}\\(\"cuda:0\"\\)" >"$out/tests-conv.txt" 2>&1
  echo "conv fixtures: exit $?" | tee -a "$out/tests-conv.txt"; tail -3 "$out/tests-conv.txt";;
esac
case " $steps " in *" conv "*)
  timeout "${CONV_S:-110}" "$bin/opteq" bench conv --device cuda:0 -r 41 --json >"$out/bench-conv-cuda.jsonl" 2>"$out/bench-conv-cuda.err"
  echo "bench conv: exit $?"; tail -3 "$out/bench-conv-cuda.err";;
esac
case " $steps " in *" tests "*)
  timeout "${TESTS_OTHER_S:-80}" "$bin/OptEq.Tests" --where "^(?!.*${conv_fixtures}).*\"cuda:0\"" >"$out/tests-other.txt" 2>&1
  echo "other fixtures: exit $?" | tee -a "$out/tests-other.txt"; tail -3 "$out/tests-other.txt";;
esac
case " $steps " in *" gemm "*)
  timeout "${GEMM_S:-40}" "$bin/opteq" bench gemm --device cuda:0 --seconds 0.3 >"$out/bench-gemm-cuda.txt" 2>&1
  echo "bench gemm: exit $?"; tail -12 "$out/bench-gemm-cuda.txt";;
esac
case " $steps " in *" gram "*)
  timeout "${GRAM_S:-40}" "$bin/opteq" bench gram --device cuda:0 -r 21 >"$out/bench-gram-cuda.txt" 2>&1
  echo "bench gram: exit $?"; tail -8 "$out/bench-gram-cuda.txt";;
esac
case " $steps " in *" step "*)
  timeout "${STEP_S:-50}" "$bin/opteq" bench step --model conv-opteq --device cuda:0 --steps 10 --peer-steps 10 >"$out/bench-step-cuda.txt" 2>&1
  echo "bench step: exit $?"; tail -8 "$out/bench-step-cuda.txt";;
esac
case " $steps " in *" train "*)
  timeout "${TRAIN_S:-150}" "$bin/opteq" train --device cuda:0 --out /tmp/train-opteq >"$out/train-opteq-cuda.txt" 2>&1
  echo "train opteq: exit $?"; tail -4 "$out/train-opteq-cuda.txt"
  timeout "${TRAIN_CONV_S:-120}" "$bin/opteq" train --device cuda:0 --model conv-opteq --epochs 1 --out /tmp/train-conv >"$out/train-conv-cuda.txt" 2>&1
  echo "train conv-opteq: exit $?"; tail -4 "$out/train-conv-cuda.txt";;
esac
