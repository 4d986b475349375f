import csv, os
rows = [{"cloud": (i % 100) / 2.0, "id": i, "name": f"S2A_MSIL2A_{i}"} for i in range(20_000)]
os.makedirs("output", exist_ok=True)
with open("output/bench.csv", "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=["cloud", "id", "name"])
    w.writeheader()
    w.writerows(rows)
with open("output/bench.csv", newline="") as f:
    back = list(csv.DictReader(f))
print(len(back))
