using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Churn.Data.Migrations.Postgres
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
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    ModelName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    CardVersion = table.Column<int>(type: "integer", nullable: false),
                    BucketStart = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    LoggedRows = table.Column<long>(type: "bigint", nullable: false),
                    CountsJson = table.Column<string>(type: "text", nullable: false)
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
