namespace OptEq.Solvers;

/// <summary>
/// Names → entries, for one kind of thing (forward solvers, adjoint solvers, backward modes). Names are lower-case and
/// compared case-insensitively; an entry may have aliases. An unknown name is an error that lists the valid ones.
/// Registration is open (a user's assembly adds its own entries) and thread-safe; lookups never lock and happen when
/// options are parsed, never inside a solve.
/// </summary>
public sealed class Registry<TEntry> where TEntry : notnull
{
    private readonly record struct Entry(string Name, TEntry Value, bool IsAlias);

    private readonly object _gate = new();
    private readonly IEqualityComparer<TEntry> _comparer;
    private volatile Entry[] _entries = []; // copy on write: a reader sees a whole table

    /// <param name="what">What an entry is, for messages ("forward solver").</param>
    public Registry(string what, IEqualityComparer<TEntry>? comparer = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(what);
        What = what;
        _comparer = comparer ?? EqualityComparer<TEntry>.Default;
    }

    public string What { get; }

    /// <summary>The canonical names, in registration order (aliases left out).</summary>
    public IReadOnlyList<string> Names => _entries.Where(e => !e.IsAlias).Select(e => e.Name).ToArray();

    /// <summary>Adds <paramref name="entry"/> under <paramref name="name"/> and any aliases; a name already taken is an error.</summary>
    public void Register(string name, TEntry entry, params string[] aliases)
    {
        ArgumentNullException.ThrowIfNull(entry);
        lock (_gate)
        {
            var added = new List<Entry>(_entries);
            foreach (var (n, alias) in aliases.Select(a => (a, true)).Prepend((name, false)))
            {
                var key = CheckName(n);
                if (added.Any(e => e.Name == key)) throw new ArgumentException($"{What} '{key}' is already registered", nameof(name));
                added.Add(new Entry(key, entry, alias));
            }
            _entries = added.ToArray();
        }
    }

    /// <summary>The entry registered under <paramref name="name"/> (or one of its aliases).</summary>
    public TEntry this[string name] => TryGet(name, out var entry) ? entry
        : throw new ArgumentException($"unknown {What} '{name}'; valid: {string.Join(", ", Names)}", nameof(name));

    public bool TryGet(string name, out TEntry entry)
    {
        ArgumentNullException.ThrowIfNull(name);
        var key = name.Trim().ToLowerInvariant();
        foreach (var e in _entries)
            if (e.Name == key) { entry = e.Value; return true; }
        entry = default!;
        return false;
    }

    public bool Contains(string name) => TryGet(name, out _);

    /// <summary>The canonical name of a registered entry.</summary>
    public string NameOf(TEntry entry)
    {
        foreach (var e in _entries)
            if (!e.IsAlias && _comparer.Equals(e.Value, entry)) return e.Name;
        throw new ArgumentException($"{What} {entry} is not registered; registered: {string.Join(", ", Names)}", nameof(entry));
    }

    private string CheckName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var key = name.Trim().ToLowerInvariant();
        if (!key.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '.' or '_'))
            throw new ArgumentException($"{What} name '{name}' may hold only letters, digits, '-', '.' and '_'", nameof(name));
        return key;
    }
}
