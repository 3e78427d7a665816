using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Churn.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class SharedSecurityState : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "data_protection_keys",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    FriendlyName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    Xml = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_data_protection_keys", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "sign_in_counters",
                columns: table => new
                {
                    Kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Key = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Failures = table.Column<int>(type: "INTEGER", nullable: false),
                    WindowEnds = table.Column<long>(type: "INTEGER", nullable: false),
                    LockedUntil = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_sign_in_counters", x => new { x.Kind, x.Key });
                });

            migrationBuilder.CreateIndex(
                name: "IX_sign_in_counters_LockedUntil",
                table: "sign_in_counters",
                column: "LockedUntil");

            migrationBuilder.CreateIndex(
                name: "IX_sign_in_counters_WindowEnds",
                table: "sign_in_counters",
                column: "WindowEnds");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "data_protection_keys");

            migrationBuilder.DropTable(
                name: "sign_in_counters");
        }
    }
}
