#!/usr/bin/env bash
# Publishes opteq and the self-running test assembly (tests/OptEq.Tests/SelfRun) self-contained for linux-x64 into one
# folder and packs it as .gpu/opteq-linux-x64.tar.xz, for a GPU machine that has no .NET: tools/gpu/check.sh runs there.
# Both publishes share one folder: they carry the same runtime and the same versions of every shared assembly.
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf .gpu/publish
mkdir -p .gpu
dotnet publish src/OptEq.Cli -c Release -r linux-x64 --self-contained -o .gpu/publish -nologo -v q
dotnet publish tests/OptEq.Tests -c Release -r linux-x64 --self-contained -o .gpu/publish -nologo -v q
tar -C .gpu -cf - publish | xz -6 -T0 > .gpu/opteq-linux-x64.tar.xz.tmp
mv .gpu/opteq-linux-x64.tar.xz.tmp .gpu/opteq-linux-x64.tar.xz
du -h .gpu/opteq-linux-x64.tar.xz
