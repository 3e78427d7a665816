using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Churn.Data.Store;

/// <summary>
/// The one width of the store's name columns: model names, customer ids, who did something (a person, a key or a
/// service), and the names of campaigns, keys, settings and segments. One width everywhere means a name that fits one
/// table fits every table it is copied to or joined with.
/// </summary>
public static class NameColumns
{
    /// <summary>The most characters a name may have.</summary>
    public const int MaxLength = 200;

    /// <summary>Declares <paramref name="names"/> as name columns of the entity (<see cref="MaxLength"/> characters at most).</summary>
    internal static EntityTypeBuilder<T> HasNames<T>(this EntityTypeBuilder<T> entity, params Expression<Func<T, string?>>[] names)
        where T : class
    {
        foreach (var name in names)
        {
            entity.Property(name).HasMaxLength(MaxLength);
        }
        return entity;
    }
}
