# Test data for gant_eval's refusals (examples/CMakeLists.txt): usage: make_no_class9.py DATASET_DIR OUT_DIR.
# The first 500 Fashion-MNIST training images that are not of class 9, with their labels.
import gzip, os, struct, sys
src, dst = sys.argv[1], sys.argv[2]
if not os.path.exists(src + '/train-labels-idx1-ubyte.gz'):
    print('SKIPPED: no Fashion-MNIST in ' + src)
    sys.exit(0)
img = gzip.open(src + '/train-images-idx3-ubyte.gz').read()
lab = gzip.open(src + '/train-labels-idx1-ubyte.gz').read()
keep = [i for i in range(1000) if lab[8 + i] != 9][:500]
os.makedirs(dst, exist_ok=True)
with open(dst + '/train-images-idx3-ubyte', 'wb') as f:
    f.write(struct.pack('>IIII', 0x803, len(keep), 28, 28) + b''.join(img[16 + 784 * i:16 + 784 * (i + 1)] for i in keep))
with open(dst + '/train-labels-idx1-ubyte', 'wb') as f:
    f.write(struct.pack('>II', 0x801, len(keep)) + bytes(lab[8 + i] for i in keep))
