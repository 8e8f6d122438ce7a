using System.Globalization;
using System.Text;

namespace OptEq.Cli.Reporting;

/// <summary>
/// Progress of one training epoch. At a terminal it redraws one line in place:
/// <code>epoch  3/20 ━━━━━━━━━━────────── 234/469 loss 0.1230 acc 96.1% fwd 12.3 bwd 8.1 4,520 samples/s</code>
/// and <see cref="Complete"/> replaces that line with the caller's summary. Otherwise (a log, CI) it prints
/// a plain line at 25%, 50% and 75% of the epoch and then the summary, so logs show progress without
/// carriage-return noise.
/// </summary>
/// <remarks>
/// Everything happens synchronously on the caller's thread inside <see cref="Update"/> (no render thread,
/// no callback), so the training loop stays an ordinary loop:
/// <code>
/// for (int epoch = 1; epoch &lt;= epochs; epoch++)
/// {
///     using var progress = new EpochProgress(epoch, epochs, batches, EpochProgress.IsInteractive);
///     for (int b = 0; b &lt; batches; b++)
///     {
///         ...train one batch...
///         progress.Update(b + 1, meanLoss, accuracy, fwdIters, bwdIters, samplesPerSecond);
///     }
///     progress.Complete($"epoch {epoch}/{epochs} loss {meanLoss:F4} test acc {testAcc:P2}");
/// }
/// </code>
/// Update is cheap and may be called every batch: it redraws at most ten times a second.
/// Do not write to the console between Update calls of an interactive display; the next redraw would
/// land on the same line. Disposing without <see cref="Complete"/> (an exception in the loop) ends the
/// line so the error message starts on a fresh one.
/// </remarks>
public sealed class EpochProgress : IDisposable
{
    // Ten redraws a second look live and cost nothing next to a training batch.
    private static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(100);
    // Epochs shorter than this are over too soon for quarter lines in a log to be worth reading.
    private const int MinBatchesForQuarterLines = 4;
    private const int MaxBarWidth = 40;
    private const int MinBarWidth = 10;

    private readonly int _epoch;
    private readonly int _epochs;
    private readonly int _totalBatches;
    private readonly bool _interactive;
    private readonly TextWriter _output;
    private readonly TimeProvider _time;
    private readonly bool _isConsole;
    private readonly bool _unicode;

    private long _lastDraw;
    private bool _drawn;
    private int _lastLineLength;
    private int _quartersReported;
    private bool _finished;

    /// <summary>Whether standard output is a terminal; see <see cref="Terminal.IsInteractive"/>.</summary>
    public static bool IsInteractive => Terminal.IsInteractive;

    /// <summary>Progress of epoch <paramref name="epoch"/> of <paramref name="epochs"/> (1-based), written to standard output.</summary>
    public EpochProgress(int epoch, int epochs, int totalBatches, bool interactive)
        : this(epoch, epochs, totalBatches, interactive, Console.Out)
    {
    }

    /// <summary>Progress written to <paramref name="output"/>; <paramref name="time"/> drives redraw throttling (tests pass a fake one).</summary>
    public EpochProgress(int epoch, int epochs, int totalBatches, bool interactive, TextWriter output, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(epoch, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(epoch, epochs);
        ArgumentOutOfRangeException.ThrowIfLessThan(totalBatches, 1);
        ArgumentNullException.ThrowIfNull(output);

        _epoch = epoch;
        _epochs = epochs;
        _totalBatches = totalBatches;
        _interactive = interactive;
        _output = output;
        _time = time ?? TimeProvider.System;
        _isConsole = ReferenceEquals(output, Console.Out);
        // Box-drawing characters only where the output can encode them; '#' and '-' otherwise.
        _unicode = output.Encoding.CodePage is 65001 or 1200 or 1201 or 12000;
    }

    /// <summary>
    /// Reports that <paramref name="batchesDone"/> of the epoch's batches are done, with running means of the
    /// loss, accuracy (a fraction, 0.961 = 96.1%) and solver iterations, and the current throughput.
    /// </summary>
    public void Update(int batchesDone, double loss, double accuracy, double forwardIterations,
        double backwardIterations, double samplesPerSecond)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchesDone, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batchesDone, _totalBatches);

        if (_interactive)
        {
            long now = _time.GetTimestamp();
            if (_drawn && _time.GetElapsedTime(_lastDraw, now) < RedrawInterval)
                return;
            _lastDraw = now;
            _drawn = true;
            Redraw(FormatLine(batchesDone, loss, accuracy, forwardIterations, backwardIterations, samplesPerSecond, withBar: true));
        }
        else if (_totalBatches >= MinBatchesForQuarterLines)
        {
            int quarters = (int)(4L * batchesDone / _totalBatches);
            // The last quarter is the summary's job.
            if (quarters > _quartersReported && quarters < 4)
            {
                _quartersReported = quarters;
                _output.WriteLine(FormatLine(batchesDone, loss, accuracy, forwardIterations, backwardIterations, samplesPerSecond, withBar: false));
                _output.Flush();
            }
        }
    }

    /// <summary>Ends the epoch: the progress line (if any) is replaced by <paramref name="summaryLine"/>.</summary>
    public void Complete(string summaryLine)
    {
        ArgumentNullException.ThrowIfNull(summaryLine);
        ObjectDisposedException.ThrowIf(_finished, this);
        _finished = true;
        if (_interactive && _drawn)
        {
            Redraw(summaryLine);
            _output.WriteLine();
        }
        else
        {
            _output.WriteLine(summaryLine);
        }
        _output.Flush();
    }

    /// <summary>Leaves the last progress line on screen and moves to the next line if <see cref="Complete"/> was not called.</summary>
    public void Dispose()
    {
        if (_finished)
            return;
        _finished = true;
        if (_interactive && _drawn)
        {
            _output.WriteLine();
            _output.Flush();
        }
    }

    /// <summary>Overwrites the current terminal line: back to column 0, new text, spaces over what is left of the old one.</summary>
    private void Redraw(string line)
    {
        // A line as wide as the terminal wraps, and '\r' would then return to the wrapped part only.
        int maxLength = Math.Max(1, Width() - 1);
        if (line.Length > maxLength)
            line = line[..maxLength];
        int padding = Math.Max(0, _lastLineLength - line.Length);
        _lastLineLength = line.Length;
        // One Write call per redraw, so the terminal never shows a half-drawn line.
        _output.Write("\r" + line + new string(' ', padding));
        _output.Flush();
    }

    private int Width() => _isConsole ? Terminal.Width() : 120;

    private string FormatLine(int batchesDone, double loss, double accuracy, double forwardIterations,
        double backwardIterations, double samplesPerSecond, bool withBar)
    {
        var inv = CultureInfo.InvariantCulture;
        int epochDigits = Digits(_epochs), batchDigits = Digits(_totalBatches);
        // Fixed-width counters keep the line from jittering as the numbers grow.
        string head = string.Create(inv, $"epoch {_epoch.ToString(inv).PadLeft(epochDigits)}/{_epochs}");
        string count = string.Create(inv, $"{batchesDone.ToString(inv).PadLeft(batchDigits)}/{_totalBatches}");
        string stats = string.Create(inv,
            $"loss {loss:F4} acc {accuracy * 100:F1}% fwd {forwardIterations:F1} bwd {backwardIterations:F1} {samplesPerSecond:N0} samples/s");

        if (!withBar)
        {
            int percent = (int)(100L * batchesDone / _totalBatches);
            return $"{head} {percent,3}% {count} {stats}";
        }

        int room = Width() - 1 - (head.Length + count.Length + stats.Length + 3);
        int barWidth = Math.Min(MaxBarWidth, room);
        if (barWidth < MinBarWidth)
            return $"{head} {count} {stats}";
        return $"{head} {Bar(batchesDone, barWidth)} {count} {stats}";
    }

    private string Bar(int batchesDone, int width)
    {
        int filled = (int)((long)width * batchesDone / _totalBatches);
        var bar = new StringBuilder(width);
        bar.Append(_unicode ? '━' : '#', filled);
        bar.Append(_unicode ? '─' : '-', width - filled);
        return bar.ToString();
    }

    private static int Digits(int value) => value.ToString(CultureInfo.InvariantCulture).Length;
}
