import numpy as np
m = np.full((4000, 4000), 0.5)
print(m.sum())
