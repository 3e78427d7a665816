using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Churn.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class DriftCounts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "drift_counts",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    ModelName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    CardVersion = table.Column<int>(type: "INTEGER", nullable: false),
                    BucketStart = table.Column<long>(type: "INTEGER", nullable: false),
                    LoggedRows = table.Column<long>(type: "INTEGER", nullable: false),
                    CountsJson = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_drift_counts", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_drift_counts_BucketStart",
                table: "drift_counts",
                column: "BucketStart");

            migrationBuilder.CreateIndex(
                name: "IX_drift_counts_ModelName_CardVersion_BucketStart",
                table: "drift_counts",
                columns: new[] { "ModelName", "CardVersion", "BucketStart" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "drift_counts");
        }
    }
}
